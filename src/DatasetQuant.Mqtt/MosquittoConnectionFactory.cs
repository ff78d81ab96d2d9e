using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Mqtt;

/// <summary>Opens <see cref="MosquittoConnection"/>s, each logging under its own category.</summary>
public sealed class MosquittoConnectionFactory(ILoggerFactory? loggerFactory = null) : IMqttConnectionFactory
{
    private readonly ILoggerFactory _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;

    public async Task<IMqttConnection> ConnectAsync(MqttConnectionOptions options, CancellationToken cancellationToken = default) =>
        await MosquittoConnection.ConnectAsync(options, _loggerFactory.CreateLogger<MosquittoConnection>(), cancellationToken).ConfigureAwait(false);
}
