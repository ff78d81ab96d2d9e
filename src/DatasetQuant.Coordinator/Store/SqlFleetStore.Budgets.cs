using System.Data;
using System.Data.Common;

namespace DatasetQuant.Coordinator.Store;

public abstract partial class SqlFleetStore
{
    private const string BudgetColumns = "fleet, device_id, version, bytes, updated_ms, published_version";

    public Task<DesiredBudget> SetDesiredBudgetAsync(string fleet, string deviceId, long bytes, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        return RunInTransactionAsync(async (connection, transaction) =>
        {
            // The next version also clears whatever the device last reported, so a coordinator starting over an empty
            // database still hands out versions the device accepts. The version moves only when the bytes do: two
            // coordinators deciding the same budget produce one version, and on PostgreSQL the second waits for the
            // first's row lock and then finds the bytes equal.
            await using (var upsert = Command(connection, """
                INSERT INTO desired_budgets (fleet, device_id, version, bytes, updated_ms, published_version)
                VALUES (@fleet, @device,
                        COALESCE((SELECT reported_budget_version FROM devices WHERE fleet = @fleet AND device_id = @device), 0) + 1,
                        @bytes, @at, 0)
                ON CONFLICT (fleet, device_id) DO UPDATE SET
                    version = CASE WHEN desired_budgets.version >= excluded.version THEN desired_budgets.version + 1 ELSE excluded.version END,
                    bytes = excluded.bytes,
                    updated_ms = excluded.updated_ms
                WHERE desired_budgets.bytes <> excluded.bytes;
                """, transaction))
            {
                Text(upsert, "@fleet", fleet);
                Text(upsert, "@device", deviceId);
                Int64(upsert, "@bytes", bytes);
                Int64(upsert, "@at", ToMs(at));
                await upsert.ExecuteNonQueryAsync(cancellationToken);
            }

            return await ReadBudgetAsync(connection, transaction, fleet, deviceId, cancellationToken)
                ?? throw new FleetStoreException($"{Location}: the desired budget of {fleet}/{deviceId} vanished while it was written.");
        }, cancellationToken);
    }

    public Task<DesiredBudget?> GetDesiredBudgetAsync(string fleet, string deviceId, CancellationToken cancellationToken = default) =>
        RunAsync(connection => ReadBudgetAsync(connection, null, fleet, deviceId, cancellationToken), cancellationToken);

    public Task<IReadOnlyList<DesiredBudget>> ListDesiredBudgetsAsync(string fleet, CancellationToken cancellationToken = default) =>
        ListBudgetsAsync(fleet, onlyUnpublished: false, cancellationToken);

    public Task<IReadOnlyList<DesiredBudget>> ListUnpublishedBudgetsAsync(string fleet, CancellationToken cancellationToken = default) =>
        ListBudgetsAsync(fleet, onlyUnpublished: true, cancellationToken);

    public Task<DesiredBudget?> ClaimBudgetPublishAsync(
        string fleet, string deviceId, string owner, DateTimeOffset now, TimeSpan lease, bool republish, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(lease, TimeSpan.Zero);
        return RunAsync(async connection =>
        {
            // One statement: the row comes back as claimed, so the version published is the one current under the claim.
            await using var command = Command(connection, $"""
                UPDATE desired_budgets SET publish_claim_owner = @owner, publish_claim_until_ms = @until
                WHERE fleet = @fleet AND device_id = @device
                  AND (@republish OR published_version < version)
                  AND (publish_claim_until_ms <= @now OR publish_claim_owner = @owner)
                RETURNING {BudgetColumns};
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            Text(command, "@owner", owner);
            Int64(command, "@now", ToMs(now));
            Int64(command, "@until", ToMs(now + lease));
            Parameter(command, "@republish", DbType.Boolean, republish);
            return (await ReadAllAsync(command, ReadBudget, cancellationToken)).FirstOrDefault();
        }, cancellationToken);
    }

    public Task<DesiredBudget?> CompleteBudgetPublishAsync(
        string fleet, string deviceId, string owner, long? publishedVersion, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(owner);
        return RunAsync(async connection =>
        {
            // A claim that expired and was taken over stays with its new owner; the version published is recorded anyway.
            await using var command = Command(connection, $"""
                UPDATE desired_budgets SET
                    published_version = CASE WHEN @published IS NOT NULL AND published_version < @published THEN @published ELSE published_version END,
                    publish_claim_until_ms = CASE WHEN publish_claim_owner = @owner THEN 0 ELSE publish_claim_until_ms END
                WHERE fleet = @fleet AND device_id = @device
                RETURNING {BudgetColumns};
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            Text(command, "@owner", owner);
            Int64(command, "@published", publishedVersion);
            return (await ReadAllAsync(command, ReadBudget, cancellationToken)).FirstOrDefault();
        }, cancellationToken);
    }

    private Task<IReadOnlyList<DesiredBudget>> ListBudgetsAsync(string fleet, bool onlyUnpublished, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<DesiredBudget>>(async connection =>
        {
            await using var command = Command(connection,
                $"SELECT {BudgetColumns} FROM desired_budgets WHERE fleet = @fleet AND (@all OR published_version < version) ORDER BY device_id;");
            Text(command, "@fleet", fleet);
            Parameter(command, "@all", DbType.Boolean, !onlyUnpublished);
            return await ReadAllAsync(command, ReadBudget, cancellationToken);
        }, cancellationToken);

    private static async Task<DesiredBudget?> ReadBudgetAsync(
        DbConnection connection, DbTransaction? transaction, string fleet, string deviceId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            $"SELECT {BudgetColumns} FROM desired_budgets WHERE fleet = @fleet AND device_id = @device;", transaction);
        Text(command, "@fleet", fleet);
        Text(command, "@device", deviceId);
        return (await ReadAllAsync(command, ReadBudget, cancellationToken)).FirstOrDefault();
    }

    private static DesiredBudget ReadBudget(DbDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), FromMs(reader.GetInt64(4)), reader.GetInt64(5));
}
