namespace DatasetQuant.Sync.Messages;

/// <summary>
/// <c>devices/{id}/state</c>, retained. The device publishes <c>status = online</c> with its flash and holdings; its
/// last will is the same document with <c>status = offline</c> and nothing else.
/// </summary>
public sealed class DeviceStateMessage : ISyncMessage
{
    public const string Online = "online";
    public const string Offline = "offline";

    public int Schema { get; init; } = SyncSchema.Current;

    public string Device { get; init; } = "";

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

    public string? Validate() =>
        MessageRules.Schema(Schema)
        ?? MessageRules.Name(Device, "device")
        ?? (Status is Online or Offline ? null : $"field 'status' is '{Status}', expected '{Online}' or '{Offline}'")
        ?? MessageRules.NonNegative(HeldBytes, "heldBytes");
}

public sealed class HeldDatasetState
{
    public string Name { get; init; } = "";

    public long ManifestVersion { get; init; }

    /// <summary>True when every shard of the manifest is held (at full precision or requantized to the budget).</summary>
    public bool Complete { get; init; }

    public List<HeldShardState> Shards { get; init; } = [];

    /// <summary>Bytes of chunk messages the device received for this manifest version.</summary>
    public long ReceivedBytes { get; init; }

    /// <summary>Layers applied, for a layered dataset (protocol version 2); null otherwise.</summary>
    public int? Layers { get; init; }
}

public sealed class HeldShardState
{
    public int Id { get; init; }

    public long Bytes { get; init; }

    /// <summary><c>full</c> when the file is the manifest's shard byte for byte, <c>requantized</c> when derived from it.</summary>
    public string Precision { get; init; } = "full";
}
