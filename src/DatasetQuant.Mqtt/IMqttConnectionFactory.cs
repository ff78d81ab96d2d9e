namespace DatasetQuant.Mqtt;

/// <summary>Opens MQTT sessions; hosts take this from DI so tests can hand them an in-memory transport instead.</summary>
public interface IMqttConnectionFactory
{
    /// <summary>Connects and returns once the broker accepted the session; throws <see cref="MqttException"/> otherwise.</summary>
    Task<IMqttConnection> ConnectAsync(MqttConnectionOptions options, CancellationToken cancellationToken = default);
}
