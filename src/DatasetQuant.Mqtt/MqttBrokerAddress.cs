namespace DatasetQuant.Mqtt;

/// <summary>A broker as <c>mqtt://host:port</c> or <c>mqtts://host:port</c> names it.</summary>
public readonly record struct MqttBrokerAddress(string Host, int Port, bool UseTls)
{
    public const int DefaultPort = 1883;
    public const int DefaultTlsPort = 8883;

    public static MqttBrokerAddress Parse(string? uri)
    {
        if (string.IsNullOrWhiteSpace(uri) || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            throw new ArgumentException($"MQTT broker '{uri}' is not a URI of the form mqtt://host:port or mqtts://host:port.", nameof(uri));
        }

        var useTls = parsed.Scheme switch
        {
            "mqtt" => false,
            "mqtts" => true,
            _ => throw new ArgumentException($"MQTT broker '{uri}' has scheme '{parsed.Scheme}'; use mqtt:// or mqtts://.", nameof(uri)),
        };
        if (parsed.AbsolutePath is not ("/" or "") || parsed.Query.Length > 0 || parsed.UserInfo.Length > 0)
        {
            throw new ArgumentException($"MQTT broker '{uri}' must be only scheme, host and port (credentials go in the options).", nameof(uri));
        }

        var port = parsed.IsDefaultPort ? (useTls ? DefaultTlsPort : DefaultPort) : parsed.Port;
        return new MqttBrokerAddress(parsed.IdnHost, port, useTls);
    }

    public override string ToString() => $"{(UseTls ? "mqtts" : "mqtt")}://{Host}:{Port}";
}
