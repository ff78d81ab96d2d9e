using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace DatasetQuant.Mqtt.Transport;

/// <summary>
/// Opens the TCP connection under an MQTTnet client: a plain <see cref="Socket"/> with Nagle off, wrapped in a
/// <see cref="SocketStream"/> that owns it. MQTTnet layers TLS over the stream it gets from here.
/// </summary>
/// <remarks>
/// MQTTnet 5.2's own TCP channel moved 128 KiB messages through Mosquitto at 2–4 MB/s on loopback here (a partial
/// send, then about 40 ms before the next write); the same client over this provider moved hundreds of MB/s
/// (docs/results.md, "MQTT client on MQTTnet"). One provider serves one session: it keeps the stream of the latest
/// connection so that the session can tell when that connection ends, and tests can cut it.
/// </remarks>
internal sealed class SocketStreamProvider : IMqttClientStreamProvider
{
    private volatile SocketStream? _current;

    /// <summary>The stream of the latest connection (closed once that connection ended), or null before the first.</summary>
    public SocketStream? Current => _current;

    public async Task<Stream> ConnectAsync(EndPoint remoteEndPoint, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(remoteEndPoint);

        // SocketType/ProtocolType without an address family: a dual-mode socket that reaches IPv4 and IPv6 hosts.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(remoteEndPoint, cancellationToken).ConfigureAwait(false);
            var stream = new SocketStream(socket);
            _current = stream;
            return stream;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
