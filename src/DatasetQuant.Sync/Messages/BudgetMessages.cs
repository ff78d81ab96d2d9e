using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// <c>devices/{id}/budget/desired</c>, retained, written by the coordinator only. <see cref="Version"/> only goes up:
/// a device ignores a document whose version is not above the one it applied.
/// </summary>
public sealed class BudgetDesiredMessage : ISyncMessage
{
    [JsonRequired]
    public int Schema { get; init; } = SyncSchema.Current;

    [JsonRequired]
    public string Device { get; init; } = "";

    [JsonRequired]
    public long Version { get; init; }

    /// <summary>Bytes of dataset shards the device may hold, over all datasets.</summary>
    [JsonRequired]
    public long Bytes { get; init; }

    public DateTimeOffset? IssuedUtc { get; init; }

    public string? Validate() =>
        MessageRules.Schema(Schema)
        ?? MessageRules.Name(Device, "device")
        ?? (Version > 0 ? null : $"field 'version' must be at least 1 ({Version})")
        ?? MessageRules.NonNegative(Bytes, "bytes");
}

/// <summary><c>devices/{id}/budget/reported</c>, retained: the budget the device applied and what it holds under it.</summary>
public sealed class BudgetReportedMessage : ISyncMessage
{
    public const string Applied = "applied";

    /// <summary>The device took the version but still works towards it (a re-fetch after a rise is running).</summary>
    public const string Applying = "applying";

    [JsonRequired]
    public int Schema { get; init; } = SyncSchema.Current;

    [JsonRequired]
    public string Device { get; init; } = "";

    [JsonRequired]
    public long Version { get; init; }

    [JsonRequired]
    public long BudgetBytes { get; init; }

    [JsonRequired]
    public long HeldBytes { get; init; }

    [JsonRequired]
    public string Status { get; init; } = Applied;

    public DateTimeOffset? UpdatedUtc { get; init; }

    public string? Validate() =>
        MessageRules.Schema(Schema)
        ?? MessageRules.Name(Device, "device")
        ?? MessageRules.NonNegative(Version, "version")
        ?? MessageRules.NonNegative(BudgetBytes, "budgetBytes")
        ?? MessageRules.NonNegative(HeldBytes, "heldBytes")
        ?? (Status is Applied or Applying ? null : $"field 'status' is '{Status}', expected '{Applied}' or '{Applying}'");
}
