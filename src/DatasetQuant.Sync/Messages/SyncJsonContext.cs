using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>Source-generated serializers for every message (trim and AOT safe); camelCase, nulls left out.</summary>
[JsonSourceGenerationOptions(
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
