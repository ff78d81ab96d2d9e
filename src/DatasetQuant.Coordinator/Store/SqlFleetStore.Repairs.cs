namespace DatasetQuant.Coordinator.Store;

public abstract partial class SqlFleetStore
{
    private const string RepairColumns = "fleet, device_id, dataset, manifest_version, request_key, served_ms, chunks, bytes";

    public Task<bool> RecordRepairAsync(RepairRecord repair, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repair);
        return RunAsync(async connection =>
        {
            await using var command = Command(connection, $"""
                INSERT INTO repairs ({RepairColumns})
                VALUES (@fleet, @device, @dataset, @version, @key, @at, @chunks, @bytes)
                ON CONFLICT DO NOTHING;
                """);
            Text(command, "@fleet", repair.Fleet);
            Text(command, "@device", repair.DeviceId);
            Text(command, "@dataset", repair.Dataset);
            Int64(command, "@version", repair.ManifestVersion);
            Text(command, "@key", repair.RequestKey);
            Int64(command, "@at", ToMs(repair.ServedAt));
            Int64(command, "@chunks", repair.Chunks);
            Int64(command, "@bytes", repair.Bytes);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<RepairTotals>> ListRepairTotalsAsync(string fleet, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<RepairTotals>>(async connection =>
        {
            await using var command = Command(connection, """
                SELECT device_id, COUNT(*), CAST(SUM(chunks) AS BIGINT), CAST(SUM(bytes) AS BIGINT) FROM repairs
                WHERE fleet = @fleet GROUP BY device_id ORDER BY device_id;
                """);
            Text(command, "@fleet", fleet);
            return await ReadAllAsync(command, r => new RepairTotals(r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetInt64(3)), cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<RepairRecord>> ListRecentRepairsAsync(string fleet, int limit, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(limit);
        return RunAsync<IReadOnlyList<RepairRecord>>(async connection =>
        {
            await using var command = Command(connection, $"""
                SELECT {RepairColumns} FROM repairs WHERE fleet = @fleet
                ORDER BY served_ms DESC, device_id, request_key LIMIT @limit;
                """);
            Text(command, "@fleet", fleet);
            Int32(command, "@limit", limit);
            return await ReadAllAsync(command, r => new RepairRecord(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4),
                FromMs(r.GetInt64(5)), r.GetInt64(6), r.GetInt64(7)), cancellationToken);
        }, cancellationToken);
    }
}
