using DatasetQuant.Mqtt;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Opens the device's MQTT session (broker URL, TLS files and client id from <see cref="DeviceSyncOptions"/>) with the
/// given last will. The libmosquitto client implements it for dq-agent; tests pass the in-memory broker's.
/// </summary>
public interface IDeviceMqttConnector
{
    Task<IMqttConnection> ConnectAsync(DeviceSyncOptions options, MqttMessage will, CancellationToken cancellationToken);
}
