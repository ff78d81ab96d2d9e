namespace DatasetQuant.Sync.Messages;

/// <summary>
/// <c>devices/{id}/pull</c>: the chunks a device lacks of one manifest version, one bitmap per shard
/// (<see cref="Chunks.ChunkBitmap"/> encoding: base64 of an LSB-first bitset, bit i set = chunk i wanted, trailing
/// zero bytes dropped).
/// </summary>
public sealed class PullRequestMessage : ISyncMessage
{
    public int Schema { get; init; } = SyncSchema.Current;

    public string Device { get; init; } = "";

    public string Dataset { get; init; } = "";

    public long ManifestVersion { get; init; }

    public List<PullShard> Shards { get; init; } = [];

    public string? Validate()
    {
        var error = MessageRules.Schema(Schema)
            ?? MessageRules.Name(Device, "device")
            ?? MessageRules.Name(Dataset, "dataset")
            ?? (ManifestVersion > 0 ? null : $"field 'manifestVersion' must be at least 1 ({ManifestVersion})");
        if (error is not null)
        {
            return error;
        }

        if (Shards is null || Shards.Count == 0)
        {
            return "field 'shards' is empty";
        }

        foreach (var shard in Shards)
        {
            if (shard is null || shard.Id < 0 || shard.Missing is null)
            {
                return "an entry of 'shards' lacks 'id' or 'missing'";
            }
        }

        return null;
    }
}

public sealed class PullShard
{
    public int Id { get; init; }

    public string Missing { get; init; } = "";
}
