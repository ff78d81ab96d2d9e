using System.Net;
using System.Net.Sockets;
using MQTTnet.Channel;

namespace DatasetQuant.Mqtt.Transport;

/// <summary>
/// One TCP connection as a stream that owns its socket. <see cref="Closed"/> fires when MQTTnet disposes the stream,
/// which it does first whenever the connection ends (loss, refusal or a clean disconnect), so a receive handler
/// waiting for the reader can stop waiting before MQTTnet waits for that handler.
/// </summary>
internal sealed class SocketStream : NetworkStream, IMqttClientStreamEndPoints
{
    private readonly CancellationTokenSource _closed = new();
    private long _bytesRead;

    public SocketStream(Socket socket)
        : base(socket, ownsSocket: true)
    {
        LocalEndPoint = socket.LocalEndPoint;
        RemoteEndPoint = socket.RemoteEndPoint;
        Closed = _closed.Token;
    }

    public EndPoint? LocalEndPoint { get; }

    public EndPoint? RemoteEndPoint { get; }

    /// <summary>Cancelled once the stream is disposed.</summary>
    public CancellationToken Closed { get; }

    /// <summary>Bytes read so far: how far MQTTnet has drained the connection (backpressure tests read it).</summary>
    public long BytesRead => Interlocked.Read(ref _bytesRead);

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var read = await base.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
        Interlocked.Add(ref _bytesRead, read);
        return read;
    }

    public override int Read(Span<byte> buffer)
    {
        var read = base.Read(buffer);
        Interlocked.Add(ref _bytesRead, read);
        return read;
    }

    /// <summary>Ends the connection as a crash or a pulled cable would: no DISCONNECT, so the broker sends the will.</summary>
    public void Abort()
    {
        try
        {
            Socket.Shutdown(SocketShutdown.Both);
        }
        catch (ObjectDisposedException)
        {
            // Already closed: nothing left to cut.
        }
        catch (SocketException)
        {
            // Not connected any more: the same.
        }
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Not disposed: a waiter may still register on the token after the stream is gone (it then runs at once).
            _closed.Cancel();
        }

        base.Dispose(disposing);
    }
}
