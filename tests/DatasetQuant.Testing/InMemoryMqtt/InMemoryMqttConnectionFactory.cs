using DatasetQuant.Mqtt;

namespace DatasetQuant.Testing.InMemoryMqtt;

/// <summary>Opens sessions on an <see cref="InMemoryMqttBroker"/> (client id and will from the options; the URI is ignored).</summary>
public sealed class InMemoryMqttConnectionFactory(InMemoryMqttBroker broker) : IMqttConnectionFactory
{
    public Task<IMqttConnection> ConnectAsync(MqttConnectionOptions options, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        options.Validate();
        return Task.FromResult<IMqttConnection>(broker.Connect(options.ClientId ?? Guid.NewGuid().ToString("N"), options.Will));
    }
}
