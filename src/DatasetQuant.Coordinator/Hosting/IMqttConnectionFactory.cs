using DatasetQuant.Mqtt;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>Opens the coordinator's MQTT session; tests hand in the in-memory broker instead.</summary>
public interface IMqttConnectionFactory
{
    Task<IMqttConnection> ConnectAsync(CancellationToken cancellationToken);
}

/// <summary>libmosquitto sessions built from <see cref="CoordinatorOptions"/>.</summary>
internal sealed class MosquittoConnectionFactory(IOptions<CoordinatorOptions> options, ILoggerFactory loggerFactory) : IMqttConnectionFactory
{
    public async Task<IMqttConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        var o = options.Value;
        return await MosquittoConnection.ConnectAsync(
            CreateOptions(o.BrokerUrl, o.EffectiveClientId, o.TlsCaFile, o.TlsCertificateFile, o.TlsKeyFile),
            loggerFactory.CreateLogger<MosquittoConnection>(),
            cancellationToken);
    }

    /// <summary>The session settings every coordinator connection uses (serve and publish alike).</summary>
    public static MqttConnectionOptions CreateOptions(string brokerUrl, string clientId, string? tlsCa, string? tlsCertificate, string? tlsKey) => new()
    {
        BrokerUri = brokerUrl,
        ClientId = clientId,
        CleanStart = true,
        TlsCaFile = tlsCa,
        TlsCertificateFile = tlsCertificate,
        TlsKeyFile = tlsKey,
        MaxInFlight = 64,
    };
}
