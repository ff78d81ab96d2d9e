using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Store;

public sealed partial class SqliteFleetStore
{
    private const string DeviceColumns =
        "d.fleet, d.device_id, d.board, d.online, d.last_seen_ms, d.free_flash_bytes, d.bytes_held, " +
        "(SELECT COUNT(*) FROM held_shards h WHERE h.fleet = d.fleet AND h.device_id = d.device_id), " +
        "d.reported_budget_version, d.reported_budget_bytes";

    public async Task<bool> RecordDeviceReportAsync(DeviceReport report, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

        // An equal timestamp re-applies the same report (a redelivery), which changes nothing.
        await using (var upsert = Command(connection, """
            INSERT INTO devices (fleet, device_id, board, online, last_seen_ms, free_flash_bytes, bytes_held)
            VALUES ($fleet, $device, $board, 1, $at, $free, $held)
            ON CONFLICT (fleet, device_id) DO UPDATE SET
                board = COALESCE(excluded.board, devices.board), online = 1, last_seen_ms = excluded.last_seen_ms,
                free_flash_bytes = excluded.free_flash_bytes, bytes_held = excluded.bytes_held
            WHERE excluded.last_seen_ms >= devices.last_seen_ms;
            """, transaction))
        {
            upsert.Parameters.AddWithValue("$fleet", report.Fleet);
            upsert.Parameters.AddWithValue("$device", report.DeviceId);
            upsert.Parameters.AddWithValue("$board", (object?)report.Board ?? DBNull.Value);
            upsert.Parameters.AddWithValue("$at", ToMs(report.ReportedAt));
            upsert.Parameters.AddWithValue("$free", (object?)report.FreeFlashBytes ?? DBNull.Value);
            upsert.Parameters.AddWithValue("$held", report.BytesHeld);
            if (await upsert.ExecuteNonQueryAsync(cancellationToken) == 0)
            {
                return false;
            }
        }

        await using (var clear = Command(connection, "DELETE FROM held_shards WHERE fleet = $fleet AND device_id = $device;", transaction))
        {
            clear.Parameters.AddWithValue("$fleet", report.Fleet);
            clear.Parameters.AddWithValue("$device", report.DeviceId);
            await clear.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = Command(connection, """
            INSERT OR REPLACE INTO held_shards (fleet, device_id, dataset, shard_id, manifest_version, bytes)
            VALUES ($fleet, $device, $dataset, $shard, $version, $bytes);
            """, transaction))
        {
            insert.Parameters.AddWithValue("$fleet", report.Fleet);
            insert.Parameters.AddWithValue("$device", report.DeviceId);
            var dataset = insert.Parameters.Add("$dataset", SqliteType.Text);
            var shard = insert.Parameters.Add("$shard", SqliteType.Integer);
            var version = insert.Parameters.Add("$version", SqliteType.Integer);
            var bytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
            foreach (var held in report.Shards)
            {
                dataset.Value = held.Dataset;
                shard.Value = held.ShardId;
                version.Value = held.ManifestVersion;
                bytes.Value = held.Bytes;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<bool> RecordDeviceOfflineAsync(string fleet, string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            UPDATE devices SET online = 0, last_seen_ms = $at
            WHERE fleet = $fleet AND device_id = $device AND last_seen_ms <= $at;
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        command.Parameters.AddWithValue("$at", ToMs(at));
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<bool> RecordReportedBudgetAsync(
        string fleet, string deviceId, long version, long bytes, CancellationToken cancellationToken = default)
    {
        // A budget report may come before the device's first state report: the row then waits, offline and empty,
        // for the state that fills it in (last_seen 0 loses to any real report).
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            INSERT INTO devices (fleet, device_id, online, last_seen_ms, free_flash_bytes, bytes_held,
                                 reported_budget_version, reported_budget_bytes)
            VALUES ($fleet, $device, 0, 0, NULL, 0, $version, $bytes)
            ON CONFLICT (fleet, device_id) DO UPDATE SET
                reported_budget_version = excluded.reported_budget_version,
                reported_budget_bytes = excluded.reported_budget_bytes
            WHERE devices.reported_budget_version IS NULL OR devices.reported_budget_version < excluded.reported_budget_version
               OR (devices.reported_budget_version = excluded.reported_budget_version
                   AND devices.reported_budget_bytes = excluded.reported_budget_bytes);
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        command.Parameters.AddWithValue("$version", version);
        command.Parameters.AddWithValue("$bytes", bytes);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<DeviceRecord?> GetDeviceAsync(string fleet, string deviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, $"SELECT {DeviceColumns} FROM devices d WHERE d.fleet = $fleet AND d.device_id = $device;");
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? ReadDevice(reader) : null;
    }

    public async Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string? fleet = null, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection,
            $"SELECT {DeviceColumns} FROM devices d WHERE $fleet IS NULL OR d.fleet = $fleet ORDER BY d.fleet, d.device_id;");
        command.Parameters.AddWithValue("$fleet", (object?)fleet ?? DBNull.Value);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var devices = new List<DeviceRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            devices.Add(ReadDevice(reader));
        }

        return devices;
    }

    public async Task<IReadOnlyList<HeldShard>> ListHeldShardsAsync(string fleet, string deviceId, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            SELECT dataset, shard_id, manifest_version, bytes FROM held_shards
            WHERE fleet = $fleet AND device_id = $device ORDER BY dataset, shard_id;
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$device", deviceId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var shards = new List<HeldShard>();
        while (await reader.ReadAsync(cancellationToken))
        {
            shards.Add(new HeldShard(reader.GetString(0), reader.GetInt32(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return shards;
    }

    private static DeviceRecord ReadDevice(SqliteDataReader reader) => new(
        reader.GetString(0),
        reader.GetString(1),
        NullableString(reader, 2),
        reader.GetInt64(3) != 0,
        FromMs(reader.GetInt64(4)),
        NullableInt64(reader, 5),
        reader.GetInt64(6),
        (int)reader.GetInt64(7),
        NullableInt64(reader, 8),
        NullableInt64(reader, 9));
}
