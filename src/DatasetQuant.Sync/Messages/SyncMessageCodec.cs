using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// JSON in and out of MQTT payloads. Reading never throws: a payload that is not JSON, not the expected shape, or
/// fails <see cref="ISyncMessage.Validate"/> comes back as false with the reason, for the caller's log line.
/// </summary>
public static class SyncMessageCodec
{
    /// <summary>Larger payloads are refused before parsing (a manifest of 65,536 shards is about 12 MiB).</summary>
    public const int MaxJsonBytes = 16 << 20;

    public static byte[] Serialize(DeviceStateMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, SyncJsonContext.Default.DeviceStateMessage);

    public static byte[] Serialize(BudgetDesiredMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, SyncJsonContext.Default.BudgetDesiredMessage);

    public static byte[] Serialize(BudgetReportedMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, SyncJsonContext.Default.BudgetReportedMessage);

    public static byte[] Serialize(SignedManifestMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, SyncJsonContext.Default.SignedManifestMessage);

    public static byte[] Serialize(PullRequestMessage message) => JsonSerializer.SerializeToUtf8Bytes(message, SyncJsonContext.Default.PullRequestMessage);

    public static bool TryReadDeviceState(ReadOnlySpan<byte> payload, out DeviceStateMessage message, out string error) =>
        TryRead(payload, "DeviceState", SyncJsonContext.Default.DeviceStateMessage, static m => m.Validate(), out message, out error);

    public static bool TryReadBudgetDesired(ReadOnlySpan<byte> payload, out BudgetDesiredMessage message, out string error) =>
        TryRead(payload, "BudgetDesired", SyncJsonContext.Default.BudgetDesiredMessage, static m => m.Validate(), out message, out error);

    public static bool TryReadBudgetReported(ReadOnlySpan<byte> payload, out BudgetReportedMessage message, out string error) =>
        TryRead(payload, "BudgetReported", SyncJsonContext.Default.BudgetReportedMessage, static m => m.Validate(), out message, out error);

    public static bool TryReadManifest(ReadOnlySpan<byte> payload, out SignedManifestMessage message, out string error) =>
        TryRead(payload, "SignedManifest", SyncJsonContext.Default.SignedManifestMessage, static m => m.Validate(), out message, out error);

    public static bool TryReadPullRequest(ReadOnlySpan<byte> payload, out PullRequestMessage message, out string error) =>
        TryRead(payload, "PullRequest", SyncJsonContext.Default.PullRequestMessage, static m => m.Validate(), out message, out error);

    /// <param name="kind">The message's name in docs/protocol.md §3, which every error starts with.</param>
    /// <param name="validate">
    /// The message's own <see cref="ISyncMessage.Validate"/>, called on the concrete type: an interface call here would
    /// keep every message's rules in every binary that builds any message, and a device reads two kinds of five (its
    /// NativeAOT binary would carry the coordinator's rules for state reports and pulls, about 10 kB).
    /// </param>
    private static bool TryRead<T>(ReadOnlySpan<byte> payload, string kind, JsonTypeInfo<T> typeInfo, Func<T, string?> validate, out T message, out string error)
        where T : class, ISyncMessage
    {
        message = null!;
        if (payload.IsEmpty)
        {
            error = $"{kind}: payload is empty";
            return false;
        }

        if (payload.Length > MaxJsonBytes)
        {
            error = $"{kind}: payload of {payload.Length} bytes exceeds {MaxJsonBytes}";
            return false;
        }

        T? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(payload, typeInfo);
        }
        catch (JsonException ex)
        {
            error = $"{kind}: {Where(ex.Path)} {WithoutPosition(ex.Message)}";
            return false;
        }
        catch (Exception ex) when (ex is NotSupportedException or ArgumentException or InvalidOperationException)
        {
            error = $"{kind}: payload is not valid JSON: {ex.Message}";
            return false;
        }

        if (parsed is null)
        {
            error = $"{kind}: payload is JSON null";
            return false;
        }

        var invalid = validate(parsed);
        if (invalid is not null)
        {
            error = $"{kind}: {invalid}";
            return false;
        }

        message = parsed;
        error = "";
        return true;
    }

    /// <summary>The field a reader error is at ("$.manifest.shards[0].size" is field 'manifest.shards[0].size'), or the payload.</summary>
    private static string Where(string? path) =>
        path is null or "$" || !path.StartsWith("$.", StringComparison.Ordinal) ? "payload is not valid JSON at its top level:" : $"field '{path[2..]}':";

    /// <summary>The reader's message without the path and position it appends (the field is named before it).</summary>
    private static string WithoutPosition(string message)
    {
        var at = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return at < 0 ? message : message[..at];
    }
}
