using System.Net.Sockets;
using System.Text;

namespace DatasetQuant.Testing;

/// <summary>The receiving end systemd would hold: a unix datagram socket, on a path or in the abstract namespace.</summary>
public sealed class NotifySocket : IDisposable
{
    private readonly Socket _socket;
    private readonly string? _file;

    private NotifySocket(Socket socket, string address, string? file)
    {
        _socket = socket;
        Address = address;
        _file = file;
    }

    /// <summary>The value for NOTIFY_SOCKET.</summary>
    public string Address { get; }

    public static NotifySocket OnPath()
    {
        var file = Path.Combine(Path.GetTempPath(), $"dq-notify-{Guid.NewGuid():N}.sock");
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint(file));
        return new NotifySocket(socket, file, file);
    }

    public static NotifySocket Abstract()
    {
        var name = $"dq-notify-{Guid.NewGuid():N}";
        var socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
        socket.Bind(new UnixDomainSocketEndPoint("\0" + name));
        return new NotifySocket(socket, "@" + name, null);
    }

    /// <summary>The next datagram, or throws after <paramref name="timeout"/>.</summary>
    public async Task<string> ReceiveAsync(TimeSpan timeout)
    {
        var buffer = new byte[4096];
        using var cts = new CancellationTokenSource(timeout);
        var count = await _socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        return Encoding.UTF8.GetString(buffer, 0, count);
    }

    /// <summary>Receives until a datagram contains <paramref name="needle"/>; returns everything received.</summary>
    public async Task<List<(TimeSpan At, string Message)>> ReceiveUntilAsync(string needle, TimeSpan timeout)
    {
        var received = new List<(TimeSpan, string)>();
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var left = timeout - clock.Elapsed;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"no '{needle}' within {timeout}; got: {string.Join(" | ", received)}");
            }

            string message;
            try
            {
                message = await ReceiveAsync(left);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"no '{needle}' within {timeout}; got: {string.Join(" | ", received)}");
            }

            received.Add((clock.Elapsed, message));
            if (message.Contains(needle, StringComparison.Ordinal))
            {
                return received;
            }
        }
    }

    public void Dispose()
    {
        _socket.Dispose();
        if (_file is not null)
        {
            File.Delete(_file);
        }
    }
}
