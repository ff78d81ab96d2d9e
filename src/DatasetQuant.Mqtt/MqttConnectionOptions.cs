namespace DatasetQuant.Mqtt;

/// <summary>How one MQTT 5 session connects. <see cref="Validate"/> runs before anything touches the network.</summary>
public sealed class MqttConnectionOptions
{
    /// <summary><c>mqtt://host:port</c> (plain TCP, default port 1883) or <c>mqtts://host:port</c> (TLS, default 8883).</summary>
    public string BrokerUri { get; set; } = "mqtt://127.0.0.1:1883";

    /// <summary>Client identifier; required when <see cref="CleanStart"/> is false, since the session is found by it.</summary>
    public string? ClientId { get; set; }

    /// <summary>Start a new session (true) or resume the one the broker kept for <see cref="ClientId"/>.</summary>
    public bool CleanStart { get; set; } = true;

    /// <summary>How long the broker keeps the session after the connection ends; zero ends it with the connection.</summary>
    public TimeSpan SessionExpiry { get; set; } = TimeSpan.Zero;

    public TimeSpan KeepAlive { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long <c>ConnectAsync</c> waits for the broker's CONNACK.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Published by the broker when this session ends without a DISCONNECT; null for none.</summary>
    public MqttMessage? Will { get; set; }

    public string? Username { get; set; }

    public string? Password { get; set; }

    /// <summary>PEM file of the CA that signed the broker's certificate (required for <c>mqtts://</c>).</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>PEM client certificate presented to the broker; needs <see cref="TlsKeyFile"/>.</summary>
    public string? TlsCertificateFile { get; set; }

    public string? TlsKeyFile { get; set; }

    /// <summary>First wait before a reconnect; doubles after every failed attempt up to <see cref="ReconnectDelayMax"/>.</summary>
    public TimeSpan ReconnectDelayMin { get; set; } = TimeSpan.FromSeconds(1);

    public TimeSpan ReconnectDelayMax { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Publishes on the wire and not yet acknowledged (QoS 1) or written (QoS 0). <c>PublishAsync</c> waits for a
    /// free slot, so memory held for outgoing messages stays bounded.
    /// </summary>
    public int MaxInFlight { get; set; } = 32;

    /// <summary>
    /// Received messages this session holds for the reader of <c>Messages</c>, and QoS 1 messages the broker may send
    /// before this session acknowledges them (MQTT 5 Receive Maximum; a broker may cap it lower with its own in-flight
    /// limit, or, as mosquitto 2.0.11 was seen to, send up to that limit regardless). A reader that falls behind stops
    /// the acknowledgements, so the backlog waits at the broker instead of in this process.
    /// </summary>
    public int ReceiveMaximum { get; set; } = 32;

    /// <summary>
    /// Where received payloads are rented from (<see cref="Mqtt.ReceiveBufferPool.Shared"/> when null); each goes
    /// back when the consumer disposes its <see cref="MqttMessage"/>.
    /// </summary>
    public System.Buffers.ArrayPool<byte>? ReceiveBufferPool { get; set; }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first option that is wrong.</summary>
    public MqttBrokerAddress Validate()
    {
        var address = MqttBrokerAddress.Parse(BrokerUri);
        if (!CleanStart && string.IsNullOrEmpty(ClientId))
        {
            throw Invalid(nameof(ClientId), "is required when CleanStart is false: the broker finds the kept session by it");
        }

        if (ClientId is { Length: > 65535 })
        {
            throw Invalid(nameof(ClientId), "is longer than MQTT allows (65535 bytes)");
        }

        RequireRange(nameof(SessionExpiry), SessionExpiry, TimeSpan.Zero, TimeSpan.FromSeconds(uint.MaxValue));
        RequireRange(nameof(KeepAlive), KeepAlive, TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(65535));
        RequireRange(nameof(ConnectTimeout), ConnectTimeout, TimeSpan.FromMilliseconds(1), TimeSpan.FromHours(1));
        RequireRange(nameof(ReconnectDelayMin), ReconnectDelayMin, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        RequireRange(nameof(ReconnectDelayMax), ReconnectDelayMax, ReconnectDelayMin, TimeSpan.FromHours(1));
        if (MaxInFlight is < 1 or > 65535)
        {
            throw Invalid(nameof(MaxInFlight), $"is {MaxInFlight}; it must be between 1 and 65535");
        }

        if (ReceiveMaximum is < 1 or > 65535)
        {
            throw Invalid(nameof(ReceiveMaximum), $"is {ReceiveMaximum}; it must be between 1 and 65535");
        }

        if (Will is { } will && (string.IsNullOrEmpty(will.Topic) || will.Topic.AsSpan().IndexOfAny('+', '#') >= 0))
        {
            throw Invalid(nameof(Will), $"topic '{will.Topic}' must be a non-empty topic without wildcards");
        }

        if (address.UseTls)
        {
            RequireFile(nameof(TlsCaFile), TlsCaFile, required: true);
            RequireFile(nameof(TlsCertificateFile), TlsCertificateFile, required: TlsKeyFile is not null);
            RequireFile(nameof(TlsKeyFile), TlsKeyFile, required: TlsCertificateFile is not null);
        }
        else if (TlsCaFile is not null || TlsCertificateFile is not null || TlsKeyFile is not null)
        {
            throw Invalid(nameof(BrokerUri), $"is '{BrokerUri}' but TLS files are set; use mqtts:// for TLS");
        }

        return address;
    }

    private static void RequireRange(string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            throw Invalid(name, $"is {value}; it must be between {min} and {max}");
        }
    }

    private static void RequireFile(string name, string? path, bool required)
    {
        if (path is null)
        {
            if (required)
            {
                throw Invalid(name, "is required for mqtts://");
            }

            return;
        }

        if (!File.Exists(path))
        {
            throw Invalid(name, $"'{path}' does not exist");
        }
    }

    private static ArgumentException Invalid(string option, string problem) =>
        new($"MQTT option {option} {problem}.", option);
}
