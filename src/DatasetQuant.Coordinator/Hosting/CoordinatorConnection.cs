using DatasetQuant.Mqtt;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>The MQTT session settings every coordinator connection uses (serve and publish alike).</summary>
internal static class CoordinatorConnection
{
    /// <summary>
    /// A clean session: the coordinator's state is in its store, not in a broker session, and retained messages give
    /// it the fleet's state again at every connect.
    /// </summary>
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

    public static MqttConnectionOptions CreateOptions(CoordinatorOptions options) =>
        CreateOptions(options.BrokerUrl, options.EffectiveClientId, options.TlsCaFile, options.TlsCertificateFile, options.TlsKeyFile);
}
