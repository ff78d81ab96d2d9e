using System.Globalization;
using System.Net;

namespace DatasetQuant.Coordinator.Web;

/// <summary>
/// Where the fleet page listens: <c>[HOST:]PORT</c> with HOST an IP address (IPv6 in brackets) or <c>localhost</c>,
/// loopback when left out. Anything but loopback must be asked for by address, since it shows the fleet to whoever can
/// reach that address.
/// </summary>
public sealed record HttpListenAddress(IPAddress Address, int Port)
{
    public bool IsLoopback => IPAddress.IsLoopback(Address);

    public string Url => $"http://{(Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{Address}]" : Address)}:{Port}/";

    /// <summary>Reads <paramref name="text"/>; throws <see cref="ArgumentException"/> saying what is wrong.</summary>
    public static HttpListenAddress Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            throw new ArgumentException("the address is empty; give [HOST:]PORT, for example 127.0.0.1:8080.");
        }

        var trimmed = text.Trim();
        string host;
        string port;
        if (trimmed.StartsWith('['))
        {
            var close = trimmed.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"'{text}' is not [IPv6]:PORT.");
            }

            host = trimmed[1..close];
            port = trimmed[(close + 2)..];
        }
        else if (trimmed.LastIndexOf(':') is var colon and >= 0)
        {
            host = trimmed[..colon];
            port = trimmed[(colon + 1)..];
        }
        else
        {
            host = "127.0.0.1";
            port = trimmed;
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number > 65535)
        {
            throw new ArgumentException($"'{text}': the port '{port}' is not a number from 0 to 65535.");
        }

        var address = host.Equals("localhost", StringComparison.OrdinalIgnoreCase) ? IPAddress.Loopback
            : IPAddress.TryParse(host, out var parsed) ? parsed
            : throw new ArgumentException($"'{text}': '{host}' is not an IP address (the page binds an address, not a name; use 127.0.0.1 or 0.0.0.0).");
        return new HttpListenAddress(address, number);
    }
}
