using System.Data;

namespace DatasetQuant.Coordinator.Store;

public abstract partial class SqlFleetStore
{
    public Task<bool> RecordDatasetAsync(DatasetRecord dataset, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        return RunInTransactionAsync(async (connection, transaction) =>
        {
            // The version only rises, in the statement itself: two publishers racing cannot leave the lower one behind.
            await using (var upsert = Command(connection, """
                INSERT INTO datasets (fleet, name, manifest_version, published_ms, shard_directory, signed_manifest, kind)
                VALUES (@fleet, @name, @version, @at, @dir, @signed, @kind)
                ON CONFLICT (fleet, name) DO UPDATE SET
                    manifest_version = excluded.manifest_version, published_ms = excluded.published_ms,
                    shard_directory = excluded.shard_directory, signed_manifest = excluded.signed_manifest, kind = excluded.kind
                WHERE datasets.manifest_version < excluded.manifest_version;
                """, transaction))
            {
                Text(upsert, "@fleet", dataset.Fleet);
                Text(upsert, "@name", dataset.Name);
                Int64(upsert, "@version", dataset.ManifestVersion);
                Int64(upsert, "@at", ToMs(dataset.PublishedAt));
                Text(upsert, "@dir", dataset.ShardDirectory);
                Parameter(upsert, "@signed", DbType.Binary, dataset.SignedManifest);
                Text(upsert, "@kind", dataset.Kind);
                if (await upsert.ExecuteNonQueryAsync(cancellationToken) == 0)
                {
                    // Not written: the same version again is accepted as it is, a lower one refused.
                    await using var current = Command(connection, "SELECT manifest_version FROM datasets WHERE fleet = @fleet AND name = @name;", transaction);
                    Text(current, "@fleet", dataset.Fleet);
                    Text(current, "@name", dataset.Name);
                    return Convert.ToInt64(await current.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == dataset.ManifestVersion;
                }
            }

            await using (var clear = Command(connection, "DELETE FROM dataset_shards WHERE fleet = @fleet AND dataset = @name;", transaction))
            {
                Text(clear, "@fleet", dataset.Fleet);
                Text(clear, "@name", dataset.Name);
                await clear.ExecuteNonQueryAsync(cancellationToken);
            }

            await using (var insert = Command(connection, """
                INSERT INTO dataset_shards (fleet, dataset, ordinal, shard_id, file_name, bytes, sha256, sample_count)
                VALUES (@fleet, @name, @ordinal, @shard, @file, @bytes, @sha, @samples);
                """, transaction))
            {
                Text(insert, "@fleet", dataset.Fleet);
                Text(insert, "@name", dataset.Name);
                var ordinal = Int32(insert, "@ordinal");
                var shard = Int32(insert, "@shard");
                var file = Text(insert, "@file");
                var bytes = Int64(insert, "@bytes");
                var sha = Text(insert, "@sha");
                var samples = Int64(insert, "@samples");
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

            return true;
        }, cancellationToken);
    }

    public async Task<DatasetRecord?> GetDatasetAsync(string fleet, string name, CancellationToken cancellationToken = default) =>
        (await ReadDatasetsAsync(fleet, name, cancellationToken)).FirstOrDefault();

    public Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string? fleet = null, CancellationToken cancellationToken = default) =>
        ReadDatasetsAsync(fleet, null, cancellationToken);

    public Task<bool> RecordBroadcastAsync(BroadcastRecord broadcast, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(broadcast);
        return RunAsync(async connection =>
        {
            await using var command = Command(connection, """
                INSERT INTO broadcasts (fleet, dataset, manifest_version, started_ms, completed_ms, chunks, bytes_published)
                VALUES (@fleet, @dataset, @version, @started, @completed, @chunks, @bytes)
                ON CONFLICT DO NOTHING;
                """);
            Text(command, "@fleet", broadcast.Fleet);
            Text(command, "@dataset", broadcast.Dataset);
            Int64(command, "@version", broadcast.ManifestVersion);
            Int64(command, "@started", ToMs(broadcast.StartedAt));
            Int64(command, "@completed", ToMs(broadcast.CompletedAt));
            Int64(command, "@chunks", broadcast.Chunks);
            Int64(command, "@bytes", broadcast.BytesPublished);
            return await command.ExecuteNonQueryAsync(cancellationToken) > 0;
        }, cancellationToken);
    }

    public Task<IReadOnlyList<BroadcastRecord>> ListBroadcastsAsync(string fleet, string dataset, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<BroadcastRecord>>(async connection =>
        {
            await using var command = Command(connection, """
                SELECT fleet, dataset, manifest_version, started_ms, completed_ms, chunks, bytes_published FROM broadcasts
                WHERE fleet = @fleet AND dataset = @dataset ORDER BY manifest_version;
                """);
            Text(command, "@fleet", fleet);
            Text(command, "@dataset", dataset);
            return await ReadAllAsync(command, r => new BroadcastRecord(r.GetString(0), r.GetString(1), r.GetInt64(2),
                FromMs(r.GetInt64(3)), FromMs(r.GetInt64(4)), r.GetInt64(5), r.GetInt64(6)), cancellationToken);
        }, cancellationToken);

    private Task<IReadOnlyList<DatasetRecord>> ReadDatasetsAsync(string? fleet, string? name, CancellationToken cancellationToken) =>
        RunAsync<IReadOnlyList<DatasetRecord>>(async connection =>
        {
            List<DatasetRecord> headers;
            await using (var command = Command(connection, """
                SELECT fleet, name, manifest_version, published_ms, shard_directory, signed_manifest, kind FROM datasets
                WHERE (@fleet IS NULL OR fleet = @fleet) AND (@name IS NULL OR name = @name) ORDER BY fleet, name;
                """))
            {
                Text(command, "@fleet", fleet);
                Text(command, "@name", name);
                headers = await ReadAllAsync(command, r => new DatasetRecord(r.GetString(0), r.GetString(1), r.GetInt64(2), FromMs(r.GetInt64(3)), r.GetString(4), [])
                {
                    SignedManifest = r.IsDBNull(5) ? null : (byte[])r.GetValue(5),
                    Kind = r.GetString(6),
                }, cancellationToken);
            }

            await using var shardsCommand = Command(connection, """
                SELECT shard_id, file_name, bytes, sha256, sample_count FROM dataset_shards
                WHERE fleet = @fleet AND dataset = @name ORDER BY ordinal;
                """);
            var fleetParameter = Text(shardsCommand, "@fleet");
            var nameParameter = Text(shardsCommand, "@name");
            var datasets = new List<DatasetRecord>(headers.Count);
            foreach (var header in headers)
            {
                fleetParameter.Value = header.Fleet;
                nameParameter.Value = header.Name;
                var shards = await ReadAllAsync(shardsCommand, r => new DatasetShard(r.GetInt32(0), r.GetString(1), r.GetInt64(2), r.GetString(3), r.GetInt64(4)), cancellationToken);
                datasets.Add(header with { Shards = shards });
            }

            return datasets;
        }, cancellationToken);
}
