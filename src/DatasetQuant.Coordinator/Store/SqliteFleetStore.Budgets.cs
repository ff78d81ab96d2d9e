using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Store;

public sealed partial class SqliteFleetStore
{
    private const string BudgetColumns = "fleet, device_id, version, bytes, updated_ms, published_version";

    public async Task<DesiredBudget> SetDesiredBudgetAsync(
        string fleet, string deviceId, long bytes, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);

        // The next version also clears whatever the device last reported, so a coordinator starting over an empty
        // database still hands out versions the device accepts.
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var upsert = Command(connection, """
            INSERT INTO desired_budgets (fleet, device_id, version, bytes, updated_ms, published_version)
            VALUES ($fleet, $device,
                    COALESCE((SELECT reported_budget_version FROM devices WHERE fleet = $fleet AND device_id = $device), 0) + 1,
                    $bytes, $at, 0)
            ON CONFLICT (fleet, device_id) DO UPDATE SET
                version = MAX(desired_budgets.version, excluded.version - 1) + 1,
                bytes = excluded.bytes,
                updated_ms = excluded.updated_ms
            WHERE desired_budgets.bytes <> excluded.bytes;
            """, transaction))
        {
            upsert.Parameters.AddWithValue("$fleet", fleet);
            upsert.Parameters.AddWithValue("$device", deviceId);
            upsert.Parameters.AddWithValue("$bytes", bytes);
            upsert.Parameters.AddWithValue("$at", ToMs(at));
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        var budget = await ReadBudgetAsync(connection, transaction, fleet, deviceId, cancellationToken)
            ?? throw new FleetStoreException($"{Path}: the desired budget of {fleet}/{deviceId} vanished while it was written.");
        await transaction.CommitAsync(cancellationToken);
        return budget;
    }

    public async Task<DesiredBudget?> GetDesiredBudgetAsync(string fleet, string deviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        return await ReadBudgetAsync(connection, null, fleet, deviceId, cancellationToken);
    }

    public Task<IReadOnlyList<DesiredBudget>> ListDesiredBudgetsAsync(string fleet, CancellationToken cancellationToken = default) =>
        ListBudgetsAsync(fleet, onlyUnpublished: false, cancellationToken);

    public Task<IReadOnlyList<DesiredBudget>> ListUnpublishedBudgetsAsync(string fleet, CancellationToken cancellationToken = default) =>
        ListBudgetsAsync(fleet, onlyUnpublished: true, cancellationToken);

    private async Task<IReadOnlyList<DesiredBudget>> ListBudgetsAsync(string fleet, bool onlyUnpublished, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {BudgetColumns} FROM desired_budgets WHERE fleet = $fleet AND ($all OR published_version < version) ORDER BY device_id;");
        command.Parameters.AddWithValue("$all", !onlyUnpublished);
        command.Parameters.AddWithValue("$fleet", fleet);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var budgets = new List<DesiredBudget>();
        while (await reader.ReadAsync(cancellationToken))
        {
            budgets.Add(ReadBudget(reader));
        }

        return budgets;
    }

    public async Task MarkBudgetPublishedAsync(string fleet, string deviceId, long version, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            UPDATE desired_budgets SET published_version = MAX(published_version, $version)
            WHERE fleet = $fleet AND device_id = $device;
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        command.Parameters.AddWithValue("$version", version);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<DesiredBudget?> ReadBudgetAsync(
        SqliteConnection connection, SqliteTransaction? transaction, string fleet, string deviceId, CancellationToken cancellationToken)
    {
        await using var command = Command(connection,
            $"SELECT {BudgetColumns} FROM desired_budgets WHERE fleet = $fleet AND device_id = $device;", transaction);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadBudget(reader) : null;
    }

    private static DesiredBudget ReadBudget(SqliteDataReader reader) => new(
        reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), FromMs(reader.GetInt64(4)), reader.GetInt64(5));
}
