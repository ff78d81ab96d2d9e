using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// <c>devices/{id}/state</c>, retained. The device publishes <c>status = online</c> with its flash and holdings; its
/// last will is the same document with <c>status = offline</c> and nothing else.
/// </summary>
public sealed class DeviceStateMessage : ISyncMessage
{
    public const string Online = "online";
    public const string Offline = "offline";

    [JsonRequired]
    public int Schema { get; init; } = SyncSchema.Current;

    [JsonRequired]
    public string Device { get; init; } = "";

    [JsonRequired]
    public string Status { get; init; } = Online;

    /// <summary>Flash the device could still give to datasets (statvfs, capped by its quota), bytes.</summary>
    public long? FreeFlashBytes { get; init; }

    /// <summary>Bytes of verified shards held, over all datasets.</summary>
    public long HeldBytes { get; init; }

    /// <summary>The budget in force, or null when the coordinator has not set one.</summary>
    public long? BudgetBytes { get; init; }

    public long BudgetVersion { get; init; }

    public List<HeldDatasetState> Datasets { get; init; } = [];

    /// <summary>Numbers the host adds (for example <c>accuracy</c>); see <c>IDeviceStateContributor</c>.</summary>
    public Dictionary<string, double>? Metrics { get; init; }

    public DateTimeOffset? UpdatedUtc { get; init; }

    public string? Validate()
    {
        var error = MessageRules.Schema(Schema)
            ?? MessageRules.Name(Device, "device")
            ?? (Status is Online or Offline ? null : $"field 'status' is '{Status}', expected '{Online}' or '{Offline}'")
            ?? MessageRules.NonNegative(HeldBytes, "heldBytes")
            ?? MessageRules.NonNegative(FreeFlashBytes ?? 0, "freeFlashBytes")
            ?? MessageRules.NonNegative(BudgetBytes ?? 0, "budgetBytes")
            ?? MessageRules.NonNegative(BudgetVersion, "budgetVersion");

        // The coordinator files every entry under its dataset name and shard id: an entry it cannot name (or a null
        // one) is refused with the report, not met later as a failure in the store.
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; error is null && i < (Datasets?.Count ?? 0); i++)
        {
            var dataset = Datasets![i];
            error = dataset is null ? $"field 'datasets[{i}]' is null"
                : dataset.Validate($"datasets[{i}]")
                ?? (names.Add(dataset.Name) ? null : $"field 'datasets[{i}].name' is '{dataset.Name}' in two entries");
        }

        return error;
    }
}

public sealed class HeldDatasetState
{
    [JsonRequired]
    public string Name { get; init; } = "";

    [JsonRequired]
    public long ManifestVersion { get; init; }

    /// <summary>True when every shard of the manifest is held (at full precision or requantized to the budget).</summary>
    public bool Complete { get; init; }

    public List<HeldShardState> Shards { get; init; } = [];

    /// <summary>Bytes of chunk messages the device received for this manifest version.</summary>
    public long ReceivedBytes { get; init; }

    /// <summary>Layers applied, for a layered dataset (protocol version 2); null otherwise.</summary>
    public int? Layers { get; init; }

    internal string? Validate(string path)
    {
        var error = MessageRules.Name(Name, path + ".name")
            ?? (ManifestVersion > 0 ? null : $"field '{path}.manifestVersion' must be at least 1 ({ManifestVersion})")
            ?? MessageRules.NonNegative(ReceivedBytes, path + ".receivedBytes")
            ?? MessageRules.NonNegative(Layers ?? 0, path + ".layers")
            ?? (Shards is null || Shards.Count <= DatasetManifest.MaxShards ? null : $"field '{path}.shards' lists more than {DatasetManifest.MaxShards} shards");
        for (var i = 0; error is null && i < (Shards?.Count ?? 0); i++)
        {
            var shard = Shards![i];
            var at = $"{path}.shards[{i}]";
            error = shard is null ? $"field '{at}' is null"
                : shard.Id < 0 ? $"field '{at}.id' is negative ({shard.Id})"
                : MessageRules.NonNegative(shard.Bytes, at + ".bytes")
                ?? (shard.Precision is Device.HeldShard.Full or Device.HeldShard.Requantized or Device.HeldShard.Dropped or Device.HeldShard.Applied
                    ? null : $"field '{at}.precision' is '{shard.Precision}', expected 'full', 'requantized', 'dropped' or 'applied'");
        }

        return error;
    }
}

public sealed class HeldShardState
{
    [JsonRequired]
    public int Id { get; init; }

    [JsonRequired]
    public long Bytes { get; init; }

    /// <summary><c>full</c> when the file is the manifest's shard byte for byte, <c>requantized</c> when derived from it.</summary>
    [JsonRequired]
    public string Precision { get; init; } = "full";
}
