using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// <c>devices/{id}/pull</c>: the chunks a device lacks of one manifest version, one bitmap per shard
/// (<see cref="Chunks.ChunkBitmap"/> encoding: base64 of an LSB-first bitset, bit i set = chunk i wanted, trailing
/// zero bytes dropped).
/// </summary>
public sealed class PullRequestMessage : ISyncMessage
{
    [JsonRequired]
    public int Schema { get; init; } = SyncSchema.Current;

    [JsonRequired]
    public string Device { get; init; } = "";

    [JsonRequired]
    public string Dataset { get; init; } = "";

    [JsonRequired]
    public long ManifestVersion { get; init; }

    [JsonRequired]
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

        if (Shards is null || Shards.Count is 0 or > DatasetManifest.MaxShards)
        {
            return $"field 'shards' must list 1..{DatasetManifest.MaxShards} shards";
        }

        // A shard listed twice would be answered twice: a pull of a few bytes per entry could then ask a coordinator
        // for any multiple of a dataset's bytes. A device lists each shard it fetches once (docs/protocol.md §8).
        var ids = new HashSet<int>();
        for (var i = 0; i < Shards.Count; i++)
        {
            var shard = Shards[i];
            if (shard is null || shard.Id < 0 || shard.Missing is null)
            {
                return $"field 'shards[{i}]' is null, or its 'id' is negative or its 'missing' absent";
            }

            if (!ids.Add(shard.Id))
            {
                return $"field 'shards[{i}].id' is {shard.Id}, listed twice";
            }
        }

        return null;
    }
}

public sealed class PullShard
{
    [JsonRequired]
    public int Id { get; init; }

    [JsonRequired]
    public string Missing { get; init; } = "";
}
