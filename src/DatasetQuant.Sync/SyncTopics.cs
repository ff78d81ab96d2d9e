namespace DatasetQuant.Sync;

/// <summary>
/// The topic tree of one fleet, <c>dq/v1/{fleet}/...</c>, as docs/protocol.md lists it, and the parser that maps a
/// received topic back to what it is.
/// </summary>
public sealed class SyncTopics
{
    public SyncTopics(string fleet)
    {
        Fleet = SyncNames.Require(fleet, "fleet");
        Prefix = $"dq/v1/{Fleet}/";
    }

    public string Fleet { get; }

    /// <summary><c>dq/v1/{fleet}/</c>.</summary>
    public string Prefix { get; }

    public string DeviceState(string deviceId) => $"{Prefix}devices/{deviceId}/state";

    public string BudgetDesired(string deviceId) => $"{Prefix}devices/{deviceId}/budget/desired";

    public string BudgetReported(string deviceId) => $"{Prefix}devices/{deviceId}/budget/reported";

    public string DevicePull(string deviceId) => $"{Prefix}devices/{deviceId}/pull";

    public string DeviceChunks(string deviceId) => $"{Prefix}devices/{deviceId}/chunks";

    public string DatasetManifest(string dataset) => $"{Prefix}datasets/{dataset}/manifest";

    public string DatasetChunks(string dataset) => $"{Prefix}datasets/{dataset}/chunks";

    /// <summary>Every device's state: <c>dq/v1/{fleet}/devices/+/state</c>.</summary>
    public string AllDeviceStates => $"{Prefix}devices/+/state";

    public string AllBudgetsReported => $"{Prefix}devices/+/budget/reported";

    public string AllPulls => $"{Prefix}devices/+/pull";

    public string AllManifests => $"{Prefix}datasets/+/manifest";

    public string AllDatasetChunks => $"{Prefix}datasets/+/chunks";

    /// <summary>
    /// Maps a topic of this fleet to its kind and the device id or dataset name in it; <see cref="SyncTopicKind.Unknown"/>
    /// for anything else (another fleet, a malformed level, an unknown suffix).
    /// </summary>
    public SyncTopic Parse(string topic)
    {
        if (!topic.StartsWith(Prefix, StringComparison.Ordinal))
        {
            return default;
        }

        var rest = topic.AsSpan(Prefix.Length);
        var slash = rest.IndexOf('/');
        if (slash < 0)
        {
            return default;
        }

        var collection = rest[..slash];
        rest = rest[(slash + 1)..];
        slash = rest.IndexOf('/');
        if (slash <= 0)
        {
            return default;
        }

        var name = rest[..slash].ToString();
        var suffix = rest[(slash + 1)..];
        if (!SyncNames.IsValid(name))
        {
            return default;
        }

        var kind = collection switch
        {
            "devices" => suffix switch
            {
                "state" => SyncTopicKind.DeviceState,
                "budget/desired" => SyncTopicKind.BudgetDesired,
                "budget/reported" => SyncTopicKind.BudgetReported,
                "pull" => SyncTopicKind.DevicePull,
                "chunks" => SyncTopicKind.DeviceChunks,
                _ => SyncTopicKind.Unknown,
            },
            "datasets" => suffix switch
            {
                "manifest" => SyncTopicKind.DatasetManifest,
                "chunks" => SyncTopicKind.DatasetChunks,
                _ => SyncTopicKind.Unknown,
            },
            _ => SyncTopicKind.Unknown,
        };
        return kind == SyncTopicKind.Unknown ? default : new SyncTopic(kind, name);
    }
}

public enum SyncTopicKind
{
    Unknown,
    DeviceState,
    BudgetDesired,
    BudgetReported,
    DevicePull,
    DeviceChunks,
    DatasetManifest,
    DatasetChunks,
}

/// <summary>A parsed topic: its kind and the device id (device topics) or dataset name (dataset topics).</summary>
public readonly record struct SyncTopic(SyncTopicKind Kind, string Name);
