using System.Net.Sockets;
using System.Text;

namespace DatasetQuant.Agent.Systemd;

/// <summary>
/// The sd_notify protocol without libsystemd: one datagram per message to the unix socket named by NOTIFY_SOCKET.
/// A leading '@' names a socket in the abstract namespace. Sending never throws: a manager that went away must not
/// take the service down with it.
/// </summary>
public sealed class SystemdNotifier : IDisposable
{
    private readonly Socket _socket;
    private readonly UnixDomainSocketEndPoint _endPoint;

    public SystemdNotifier(string notifySocket)
    {
        ArgumentException.ThrowIfNullOrEmpty(notifySocket);
        SocketPath = notifySocket;

        // The abstract namespace is spelled '@name' in the environment and "\0name" on the wire.
        _endPoint = new UnixDomainSocketEndPoint(notifySocket[0] == '@' ? "\0" + notifySocket[1..] : notifySocket);
        _socket = new Socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified);
    }

    public string SocketPath { get; }

    /// <summary>The last send error, or null.</summary>
    public string? LastError { get; private set; }

    /// <summary>Sends one state block such as <c>READY=1</c> or <c>STATUS=syncing</c>; false if it could not be sent.</summary>
    public bool Notify(string state)
    {
        try
        {
            var bytes = Encoding.UTF8.GetBytes(state);
            lock (_socket)
            {
                _socket.SendTo(bytes, SocketFlags.None, _endPoint);
            }

            return true;
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            LastError = ex.Message;
            return false;
        }
    }

    public void Dispose() => _socket.Dispose();
}
