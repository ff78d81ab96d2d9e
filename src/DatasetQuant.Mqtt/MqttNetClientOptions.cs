using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using DatasetQuant.Mqtt.Transport;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace DatasetQuant.Mqtt;

/// <summary>
/// Our <see cref="MqttConnectionOptions"/> as MQTTnet's client options: MQTT 5, the session settings, the will and
/// TLS (the broker checked against <see cref="MqttConnectionOptions.TlsCaFile"/> alone, the client certificate from PEM
/// files), over the plain-socket <see cref="SocketStreamProvider"/>.
/// </summary>
internal static class MqttNetClientOptions
{
    public static MqttClientOptions Create(
        MqttConnectionOptions options, MqttBrokerAddress address, string clientId, SocketStreamProvider transport)
    {
        var tcp = new MqttClientTcpOptions
        {
            RemoteEndpoint = IPAddress.TryParse(address.Host, out var ip) ? new IPEndPoint(ip, address.Port) : new DnsEndPoint(address.Host, address.Port),
            NoDelay = true,
            StreamProvider = transport,
            TlsOptions = address.UseTls ? CreateTls(options, address) : new MqttClientTlsOptions { UseTls = false },
        };

        var client = new MqttClientOptions
        {
            ChannelOptions = tcp,
            ProtocolVersion = MqttProtocolVersion.V500,
            ClientId = clientId,
            CleanSession = options.CleanStart,
            SessionExpiryInterval = (uint)options.SessionExpiry.TotalSeconds,
            KeepAlivePeriod = options.KeepAlive,
            Timeout = options.ConnectTimeout,
            ReceiveMaximum = (ushort)options.ReceiveMaximum,

            // A PUBLISH goes out as header and payload in two writes instead of being copied into one buffer first.
            AllowPacketFragmentation = true,
        };

        if (options.Username is not null)
        {
            client.Credentials = new MqttClientCredentials(options.Username, options.Password is null ? null : System.Text.Encoding.UTF8.GetBytes(options.Password));
        }

        if (options.Will is { } will)
        {
            client.WillTopic = will.Topic;
            client.WillPayload = will.Payload.ToArray();
            client.WillQualityOfServiceLevel = (MqttQualityOfServiceLevel)will.Qos;
            client.WillRetain = will.Retain;
            client.WillContentType = will.ContentType;
            client.WillMessageExpiryInterval = will.MessageExpirySeconds ?? 0;
            client.WillUserProperties = ToUserProperties(will.UserProperties);
        }

        return client;
    }

    /// <summary>The MQTT 5 properties of <paramref name="message"/> as MQTTnet wants them; null when there are none.</summary>
    public static List<MqttUserProperty>? ToUserProperties(IReadOnlyList<KeyValuePair<string, string>> properties)
    {
        if (properties.Count == 0)
        {
            return null;
        }

        var list = new List<MqttUserProperty>(properties.Count);
        foreach (var (name, value) in properties)
        {
            list.Add(new MqttUserProperty(name, new ReadOnlyMemory<byte>(System.Text.Encoding.UTF8.GetBytes(value))));
        }

        return list;
    }

    /// <summary>
    /// Trust exactly the CA of <see cref="MqttConnectionOptions.TlsCaFile"/> (not the system store), check the broker's
    /// name against its certificate, and present the client certificate when one is configured. No revocation
    /// check: the deploy/mosquitto CA publishes no CRL, and libmosquitto's client checked none either.
    /// </summary>
    private static MqttClientTlsOptions CreateTls(MqttConnectionOptions options, MqttBrokerAddress address)
    {
        var trust = new X509Certificate2Collection();
        try
        {
            trust.ImportFromPemFile(options.TlsCaFile!);
        }
        catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new MqttException($"Cannot read the CA certificate TlsCaFile '{options.TlsCaFile}': {ex.Message}", ex);
        }

        if (trust.Count == 0)
        {
            throw new MqttException($"TlsCaFile '{options.TlsCaFile}' holds no PEM certificate.");
        }

        var tls = new MqttClientTlsOptions
        {
            UseTls = true,
            TargetHost = address.Host,
            TrustChain = trust,
            RevocationMode = X509RevocationMode.NoCheck,
        };

        if (options.TlsCertificateFile is not null)
        {
            X509Certificate2 certificate;
            try
            {
                certificate = X509Certificate2.CreateFromPemFile(options.TlsCertificateFile, options.TlsKeyFile);
            }
            catch (Exception ex) when (ex is CryptographicException or IOException or UnauthorizedAccessException)
            {
                throw new MqttException(
                    $"Cannot load the client certificate TlsCertificateFile '{options.TlsCertificateFile}' with TlsKeyFile '{options.TlsKeyFile}': {ex.Message}", ex);
            }

            tls.ClientCertificatesProvider = new DefaultMqttCertificatesProvider(new X509Certificate2Collection(certificate));
        }

        return tls;
    }
}
