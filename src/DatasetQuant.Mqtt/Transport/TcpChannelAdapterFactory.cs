using MQTTnet;
using MQTTnet.Adapter;
using MQTTnet.Diagnostics.Logger;
using MQTTnet.Diagnostics.PacketInspection;
using MQTTnet.Formatter;
using MQTTnet.Implementations;

namespace DatasetQuant.Mqtt.Transport;

/// <summary>
/// Builds MQTTnet's channel adapter over its TCP channel only (whose stream comes from <see cref="SocketStreamProvider"/>).
/// MQTTnet's own <c>MqttClientAdapterFactory</c> also references its WebSocket channel, whatever the options say, and
/// with it <c>ClientWebSocket</c> and the HTTP stack: NativeAOT cannot trim what a reachable switch arm names, so the
/// agent carried code it never runs. The device speaks MQTT over TCP (with TLS) only.
/// </summary>
internal sealed class TcpChannelAdapterFactory : IMqttClientAdapterFactory
{
    public IMqttChannelAdapter CreateClientAdapter(MqttClientOptions options, MqttPacketInspector packetInspector, IMqttNetLogger logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.ChannelOptions is not MqttClientTcpOptions)
        {
            throw new NotSupportedException($"Only MQTT over TCP is supported; the options name {options.ChannelOptions?.GetType().Name ?? "no channel"}.");
        }

        var formatter = new MqttPacketFormatterAdapter(options.ProtocolVersion, new MqttBufferWriter(options.WriterBufferSize, options.WriterBufferSizeMax));
        return new MqttChannelAdapter(new MqttTcpChannel(options), formatter, logger)
        {
            AllowPacketFragmentation = options.AllowPacketFragmentation,
            PacketInspector = packetInspector,
        };
    }
}
