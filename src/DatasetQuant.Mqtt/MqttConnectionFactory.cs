using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Mqtt;

/// <summary>Opens <see cref="MqttConnection"/>s, each logging under its own category.</summary>
public sealed class MqttConnectionFactory(ILoggerFactory? loggerFactory = null) : IMqttConnectionFactory
{
    private readonly ILoggerFactory _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;

    public async Task<IMqttConnection> ConnectAsync(MqttConnectionOptions options, CancellationToken cancellationToken = default) =>
        await MqttConnection.ConnectAsync(options, _loggerFactory.CreateLogger<MqttConnection>(), cancellationToken).ConfigureAwait(false);
}
