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
        TryRead(payload, SyncJsonContext.Default.DeviceStateMessage, out message, out error);

    public static bool TryReadBudgetDesired(ReadOnlySpan<byte> payload, out BudgetDesiredMessage message, out string error) =>
        TryRead(payload, SyncJsonContext.Default.BudgetDesiredMessage, out message, out error);

    public static bool TryReadBudgetReported(ReadOnlySpan<byte> payload, out BudgetReportedMessage message, out string error) =>
        TryRead(payload, SyncJsonContext.Default.BudgetReportedMessage, out message, out error);

    public static bool TryReadManifest(ReadOnlySpan<byte> payload, out SignedManifestMessage message, out string error) =>
        TryRead(payload, SyncJsonContext.Default.SignedManifestMessage, out message, out error);

    public static bool TryReadPullRequest(ReadOnlySpan<byte> payload, out PullRequestMessage message, out string error) =>
        TryRead(payload, SyncJsonContext.Default.PullRequestMessage, out message, out error);

    private static bool TryRead<T>(ReadOnlySpan<byte> payload, JsonTypeInfo<T> typeInfo, out T message, out string error)
        where T : class, ISyncMessage
    {
        message = null!;
        if (payload.IsEmpty)
        {
            error = "empty payload";
            return false;
        }

        if (payload.Length > MaxJsonBytes)
        {
            error = $"payload of {payload.Length} bytes exceeds {MaxJsonBytes}";
            return false;
        }

        T? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize(payload, typeInfo);
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or ArgumentException or InvalidOperationException)
        {
            error = $"not valid {typeof(T).Name} JSON: {ex.Message}";
            return false;
        }

        if (parsed is null)
        {
            error = "JSON null";
            return false;
        }

        var invalid = parsed.Validate();
        if (invalid is not null)
        {
            error = invalid;
            return false;
        }

        message = parsed;
        error = "";
        return true;
    }
}
