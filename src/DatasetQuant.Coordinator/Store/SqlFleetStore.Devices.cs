using System.Data.Common;

namespace DatasetQuant.Coordinator.Store;

public abstract partial class SqlFleetStore
{
    private const string DeviceColumns =
        "d.fleet, d.device_id, d.board, d.online, d.last_seen_ms, d.free_flash_bytes, d.bytes_held, " +
        "(SELECT COUNT(*) FROM held_shards h WHERE h.fleet = d.fleet AND h.device_id = d.device_id), " +
        "d.reported_budget_version, d.reported_budget_bytes";

    public Task<bool> RecordDeviceReportAsync(DeviceReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        return RunInTransactionAsync(async (connection, transaction) =>
        {
            // An equal timestamp re-applies the same report (a redelivery, or another coordinator's copy of it), which
            // changes nothing. On PostgreSQL the upsert locks the device's row until commit, so two coordinators
            // applying reports of one device replace its shards one after the other, never interleaved.
            await using (var upsert = Command(connection, """
                INSERT INTO devices (fleet, device_id, board, online, last_seen_ms, free_flash_bytes, bytes_held)
                VALUES (@fleet, @device, @board, TRUE, @at, @free, @held)
                ON CONFLICT (fleet, device_id) DO UPDATE SET
                    board = COALESCE(excluded.board, devices.board), online = TRUE, last_seen_ms = excluded.last_seen_ms,
                    free_flash_bytes = excluded.free_flash_bytes, bytes_held = excluded.bytes_held
                WHERE excluded.last_seen_ms >= devices.last_seen_ms;
                """, transaction))
            {
                Text(upsert, "@fleet", report.Fleet);
                Text(upsert, "@device", report.DeviceId);
                Text(upsert, "@board", report.Board);
                Int64(upsert, "@at", ToMs(report.ReportedAt));
                Int64(upsert, "@free", report.FreeFlashBytes);
                Int64(upsert, "@held", report.BytesHeld);
                if (await upsert.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    return false;
                }
            }

            await using (var clear = Command(connection, "DELETE FROM held_shards WHERE fleet = @fleet AND device_id = @device;", transaction))
            {
                Text(clear, "@fleet", report.Fleet);
                Text(clear, "@device", report.DeviceId);
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var insert = Command(connection, """
                INSERT INTO held_shards (fleet, device_id, dataset, shard_id, manifest_version, bytes)
                VALUES (@fleet, @device, @dataset, @shard, @version, @bytes)
                ON CONFLICT (fleet, device_id, dataset, shard_id) DO UPDATE SET
                    manifest_version = excluded.manifest_version, bytes = excluded.bytes;
                """, transaction))
            {
                Text(insert, "@fleet", report.Fleet);
                Text(insert, "@device", report.DeviceId);
                var dataset = Text(insert, "@dataset");
                var shard = Int32(insert, "@shard");
                var version = Int64(insert, "@version");
                var bytes = Int64(insert, "@bytes");
                foreach (var held in report.Shards)
                {
                    dataset.Value = held.Dataset;
                    shard.Value = held.ShardId;
                    version.Value = held.ManifestVersion;
                    bytes.Value = held.Bytes;
                    await insert.ExecuteNonQueryAsync(cancellationToken);
                }
            }

            return true;
        }, cancellationToken);
    }

    public Task<bool> RecordDeviceOfflineAsync(string fleet, string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            await using var command = Command(connection, """
                UPDATE devices SET online = FALSE, last_seen_ms = @at
                WHERE fleet = @fleet AND device_id = @device AND last_seen_ms <= @at;
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            Int64(command, "@at", ToMs(at));
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<bool> RecordReportedBudgetAsync(string fleet, string deviceId, long version, long bytes, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            // A budget report may come before the device's first state report: the row then waits, offline and empty,
            // for the state that fills it in (last_seen 0 loses to any real report).
            await using var command = Command(connection, """
                INSERT INTO devices (fleet, device_id, online, last_seen_ms, free_flash_bytes, bytes_held,
                                     reported_budget_version, reported_budget_bytes)
                VALUES (@fleet, @device, FALSE, 0, NULL, 0, @version, @bytes)
                ON CONFLICT (fleet, device_id) DO UPDATE SET
                    reported_budget_version = excluded.reported_budget_version,
                    reported_budget_bytes = excluded.reported_budget_bytes
                WHERE devices.reported_budget_version IS NULL OR devices.reported_budget_version < excluded.reported_budget_version
                   OR (devices.reported_budget_version = excluded.reported_budget_version
                       AND devices.reported_budget_bytes = excluded.reported_budget_bytes);
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            Int64(command, "@version", version);
            Int64(command, "@bytes", bytes);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);

    public Task<DeviceRecord?> GetDeviceAsync(string fleet, string deviceId, CancellationToken cancellationToken = default) =>
        RunAsync(async connection =>
        {
            await using var command = Command(connection, $"SELECT {DeviceColumns} FROM devices d WHERE d.fleet = @fleet AND d.device_id = @device;");
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            return (await ReadAllAsync(command, ReadDevice, cancellationToken)).FirstOrDefault();
        }, cancellationToken);

    public Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string? fleet = null, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<DeviceRecord>>(async connection =>
        {
            await using var command = Command(connection,
                $"SELECT {DeviceColumns} FROM devices d WHERE @fleet IS NULL OR d.fleet = @fleet ORDER BY d.fleet, d.device_id;");
            Text(command, "@fleet", fleet);
            return await ReadAllAsync(command, ReadDevice, cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<HeldShard>> ListHeldShardsAsync(string fleet, string deviceId, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<HeldShard>>(async connection =>
        {
            await using var command = Command(connection, """
                SELECT dataset, shard_id, manifest_version, bytes FROM held_shards
                WHERE fleet = @fleet AND device_id = @device ORDER BY dataset, shard_id;
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@device", deviceId);
            return await ReadAllAsync(command, r => new HeldShard(r.GetString(0), r.GetInt32(1), r.GetInt64(2), r.GetInt64(3)), cancellationToken);
        }, cancellationToken);

    public Task<IReadOnlyList<DeviceHolding>> ListHoldingsAsync(string fleet, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<DeviceHolding>>(async connection =>
        {
            await using var command = Command(connection, """
                SELECT device_id, dataset, manifest_version, COUNT(*), CAST(SUM(bytes) AS BIGINT) FROM held_shards
                WHERE fleet = @fleet GROUP BY device_id, dataset, manifest_version ORDER BY device_id, dataset, manifest_version;
                """);
            Text(command, "@fleet", fleet);
            return await ReadAllAsync(command, r => new DeviceHolding(r.GetString(0), r.GetString(1), r.GetInt64(2), (int)r.GetInt64(3), r.GetInt64(4)), cancellationToken);
        }, cancellationToken);

    private static DeviceRecord ReadDevice(DbDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        NullableString(reader, 2),
        reader.GetBoolean(3),
        FromMs(reader.GetInt64(4)),
        NullableInt64(reader, 5),
        reader.GetInt64(6),
        (int)reader.GetInt64(7),
        NullableInt64(reader, 8),
        NullableInt64(reader, 9));
}
