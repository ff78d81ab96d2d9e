using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Publishes a device's desired budget, retained, on <c>devices/{id}/budget/desired</c>. The caller owns the version
/// counter (its store) and must give each new budget of a device a higher version: devices ignore anything else.
/// </summary>
public sealed class BudgetPublisher(IMqttConnection connection, SyncTopics topics)
{
    public async Task<BudgetDesiredMessage> PublishAsync(string deviceId, long version, long bytes, CancellationToken cancellationToken = default)
    {
        SyncNames.Require(deviceId, nameof(deviceId));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        var desired = new BudgetDesiredMessage { Device = deviceId, Version = version, Bytes = bytes, IssuedUtc = DateTimeOffset.UtcNow };
        var message = new MqttMessage(topics.BudgetDesired(deviceId), SyncMessageCodec.Serialize(desired), MqttQos.AtLeastOnce, Retain: true)
        {
            ContentType = "application/json",
        };
        await connection.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        return desired;
    }
}
