using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// Source-generated metadata for every message (trim and AOT safe); camelCase, nulls left out. Metadata only, without
/// the generated fast-path writers: the messages are small and few, and the writers cost the device's binary kilobytes.
/// </summary>
[JsonSourceGenerationOptions(
    GenerationMode = JsonSourceGenerationMode.Metadata,
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    NumberHandling = JsonNumberHandling.Strict,
    ReadCommentHandling = System.Text.Json.JsonCommentHandling.Disallow,
    MaxDepth = 16)]
[JsonSerializable(typeof(DeviceStateMessage))]
[JsonSerializable(typeof(BudgetDesiredMessage))]
[JsonSerializable(typeof(BudgetReportedMessage))]
[JsonSerializable(typeof(SignedManifestMessage))]
[JsonSerializable(typeof(PullRequestMessage))]

[JsonSerializable(typeof(Device.DeviceSyncStateFile))]
internal sealed partial class SyncJsonContext : JsonSerializerContext
{
}
