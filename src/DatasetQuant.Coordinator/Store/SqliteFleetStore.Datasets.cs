using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Store;

public sealed partial class SqliteFleetStore
{
    public async Task<bool> RecordDatasetAsync(DatasetRecord dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);

        long? held;
        await using (var current = Command(connection, "SELECT manifest_version FROM datasets WHERE fleet = $fleet AND name = $name;", transaction))
        {
            current.Parameters.AddWithValue("$fleet", dataset.Fleet);
            current.Parameters.AddWithValue("$name", dataset.Name);
            held = (long?)await current.ExecuteScalarAsync(cancellationToken);
        }

        if (held > dataset.ManifestVersion)
        {
            return false;
        }

        if (held == dataset.ManifestVersion)
        {
            return true;
        }

        await using (var upsert = Command(connection, """
            INSERT INTO datasets (fleet, name, manifest_version, published_ms, shard_directory, signed_manifest)
            VALUES ($fleet, $name, $version, $at, $dir, $signed)
            ON CONFLICT (fleet, name) DO UPDATE SET
                manifest_version = excluded.manifest_version, published_ms = excluded.published_ms,
                shard_directory = excluded.shard_directory, signed_manifest = excluded.signed_manifest;
            DELETE FROM dataset_shards WHERE fleet = $fleet AND dataset = $name;
            """, transaction))
        {
            upsert.Parameters.AddWithValue("$fleet", dataset.Fleet);
            upsert.Parameters.AddWithValue("$name", dataset.Name);
            upsert.Parameters.AddWithValue("$version", dataset.ManifestVersion);
            upsert.Parameters.AddWithValue("$at", ToMs(dataset.PublishedAt));
            upsert.Parameters.AddWithValue("$dir", dataset.ShardDirectory);
            upsert.Parameters.Add("$signed", SqliteType.Blob).Value = (object?)dataset.SignedManifest ?? DBNull.Value;
            await upsert.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var insert = Command(connection, """
            INSERT INTO dataset_shards (fleet, dataset, ordinal, shard_id, file_name, bytes, sha256, sample_count)
            VALUES ($fleet, $name, $ordinal, $shard, $file, $bytes, $sha, $samples);
            """, transaction))
        {
            insert.Parameters.AddWithValue("$fleet", dataset.Fleet);
            insert.Parameters.AddWithValue("$name", dataset.Name);
            var ordinal = insert.Parameters.Add("$ordinal", SqliteType.Integer);
            var shard = insert.Parameters.Add("$shard", SqliteType.Integer);
            var file = insert.Parameters.Add("$file", SqliteType.Text);
            var bytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
            var sha = insert.Parameters.Add("$sha", SqliteType.Text);
            var samples = insert.Parameters.Add("$samples", SqliteType.Integer);
            for (var i = 0; i < dataset.Shards.Count; i++)
            {
                var s = dataset.Shards[i];
                ordinal.Value = i;
                shard.Value = s.ShardId;
                file.Value = s.FileName;
                bytes.Value = s.Bytes;
                sha.Value = s.Sha256;
                samples.Value = s.SampleCount;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }
        }

        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    public async Task<DatasetRecord?> GetDatasetAsync(string fleet, string name, CancellationToken cancellationToken = default)
    {
        var all = await ReadDatasetsAsync(fleet, name, cancellationToken);
        return all.Count == 0 ? null : all[0];
    }

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string? fleet = null, CancellationToken cancellationToken = default) =>
        ReadDatasetsAsync(fleet, null, cancellationToken);

    public async Task<bool> RecordBroadcastAsync(BroadcastRecord broadcast, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            INSERT OR IGNORE INTO broadcasts (fleet, dataset, manifest_version, started_ms, completed_ms, chunks, bytes_published)
            VALUES ($fleet, $dataset, $version, $started, $completed, $chunks, $bytes);
            """);
        command.Parameters.AddWithValue("$fleet", broadcast.Fleet);
        command.Parameters.AddWithValue("$dataset", broadcast.Dataset);
        command.Parameters.AddWithValue("$version", broadcast.ManifestVersion);
        command.Parameters.AddWithValue("$started", ToMs(broadcast.StartedAt));
        command.Parameters.AddWithValue("$completed", ToMs(broadcast.CompletedAt));
        command.Parameters.AddWithValue("$chunks", broadcast.Chunks);
        command.Parameters.AddWithValue("$bytes", broadcast.BytesPublished);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<BroadcastRecord>> ListBroadcastsAsync(string fleet, string dataset, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            SELECT fleet, dataset, manifest_version, started_ms, completed_ms, chunks, bytes_published FROM broadcasts
            WHERE fleet = $fleet AND dataset = $dataset ORDER BY manifest_version;
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        command.Parameters.AddWithValue("$dataset", dataset);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var broadcasts = new List<BroadcastRecord>();
        while (await reader.ReadAsync(cancellationToken))
        {
            broadcasts.Add(new BroadcastRecord(reader.GetString(0), reader.GetString(1), reader.GetInt64(2),
                FromMs(reader.GetInt64(3)), FromMs(reader.GetInt64(4)), reader.GetInt64(5), reader.GetInt64(6)));
        }

        return broadcasts;
    }

    public async Task<bool> RecordRepairAsync(RepairRecord repair, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(repair);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            INSERT OR IGNORE INTO repairs (fleet, device_id, dataset, manifest_version, request_key, served_ms, chunks, bytes)
            VALUES ($fleet, $device, $dataset, $version, $key, $at, $chunks, $bytes);
            """);
        command.Parameters.AddWithValue("$fleet", repair.Fleet);
        command.Parameters.AddWithValue("$device", repair.DeviceId);
        command.Parameters.AddWithValue("$dataset", repair.Dataset);
        command.Parameters.AddWithValue("$version", repair.ManifestVersion);
        command.Parameters.AddWithValue("$key", repair.RequestKey);
        command.Parameters.AddWithValue("$at", ToMs(repair.ServedAt));
        command.Parameters.AddWithValue("$chunks", repair.Chunks);
        command.Parameters.AddWithValue("$bytes", repair.Bytes);
        return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
    }

    public async Task<IReadOnlyList<RepairTotals>> ListRepairTotalsAsync(string fleet, CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = Command(connection, """
            SELECT device_id, COUNT(*), SUM(chunks), SUM(bytes) FROM repairs
            WHERE fleet = $fleet GROUP BY device_id ORDER BY device_id;
            """);
        command.Parameters.AddWithValue("$fleet", fleet);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var totals = new List<RepairTotals>();
        while (await reader.ReadAsync(cancellationToken))
        {
            totals.Add(new RepairTotals(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return totals;
    }

    private async Task<IReadOnlyList<DatasetRecord>> ReadDatasetsAsync(string? fleet, string? name, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        var headers = new List<(string Fleet, string Name, long Version, long PublishedMs, string Directory, byte[]? Signed)>();
        await using (var command = Command(connection, """
            SELECT fleet, name, manifest_version, published_ms, shard_directory, signed_manifest FROM datasets
            WHERE ($fleet IS NULL OR fleet = $fleet) AND ($name IS NULL OR name = $name) ORDER BY fleet, name;
            """))
        {
            command.Parameters.AddWithValue("$fleet", (object?)fleet ?? DBNull.Value);
            command.Parameters.AddWithValue("$name", (object?)name ?? DBNull.Value);
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                headers.Add((reader.GetString(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetString(4),
                    reader.IsDBNull(5) ? null : (byte[])reader.GetValue(5)));
            }
        }

        var datasets = new List<DatasetRecord>(headers.Count);
        await using var shardsCommand = Command(connection, """
            SELECT shard_id, file_name, bytes, sha256, sample_count FROM dataset_shards
            WHERE fleet = $fleet AND dataset = $name ORDER BY ordinal;
            """);
        var fleetParameter = shardsCommand.Parameters.Add("$fleet", SqliteType.Text);
        var nameParameter = shardsCommand.Parameters.Add("$name", SqliteType.Text);
        foreach (var header in headers)
        {
            fleetParameter.Value = header.Fleet;
            nameParameter.Value = header.Name;
            var shards = new List<DatasetShard>();
            await using (var reader = await shardsCommand.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    shards.Add(new DatasetShard(reader.GetInt32(0), reader.GetString(1), reader.GetInt64(2), reader.GetString(3), reader.GetInt64(4)));
                }
            }

            datasets.Add(new DatasetRecord(header.Fleet, header.Name, header.Version, FromMs(header.PublishedMs), header.Directory, shards)
            {
                SignedManifest = header.Signed,
            });
        }

        return datasets;
    }
}
