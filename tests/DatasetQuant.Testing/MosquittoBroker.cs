using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace DatasetQuant.Testing;

/// <summary>
/// Debian's mosquitto, started on a free loopback port with a configuration written for the test, and stopped on
/// dispose. <see cref="RestartAsync"/> brings it back on the same port, for tests of what happens while it is gone.
/// </summary>
public sealed class MosquittoBroker : IAsyncDisposable
{
    private static readonly string[] BrokerPaths = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto", "/usr/local/sbin/mosquitto"];

    private readonly string _configPath;
    private readonly TempDirectory _directory;
    private readonly List<string> _log = [];
    private Process? _process;

    private MosquittoBroker(TempDirectory directory, int port, string configPath)
    {
        _directory = directory;
        Port = port;
        _configPath = configPath;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    public string Url => $"mqtt://{Host}:{Port}";

    /// <summary>The broker's process id while it runs (for measurements of its CPU time).</summary>
    public int? ProcessId => _process?.Id;

    /// <summary>What the broker printed so far (useful in assertion messages).</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return string.Join(Environment.NewLine, _log);
            }
        }
    }

    /// <summary>Starts a broker. <paramref name="extraConfig"/> lines are appended to the listener's configuration.</summary>
    public static async Task<MosquittoBroker> StartAsync(string? extraConfig = null, CancellationToken cancellationToken = default)
    {
        var directory = new TempDirectory("mosquitto");
        var port = FreeLoopbackPort();
        var configPath = Path.Combine(directory.Path, "mosquitto.conf");
        await File.WriteAllTextAsync(configPath, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            persistence false
            max_inflight_messages 0
            max_queued_messages 100000
            log_dest stdout
            log_type error
            log_type warning
            log_type notice
            {extraConfig}
            """, cancellationToken);
        var broker = new MosquittoBroker(directory, port, configPath);
        await broker.StartProcessAsync(cancellationToken);
        return broker;
    }

    /// <summary>
    /// Starts a broker on a whole configuration of the caller's (for example a deployed config with its listener and
    /// file paths rewritten). <paramref name="configForPort"/> gets the free loopback port to listen on.
    /// </summary>
    public static async Task<MosquittoBroker> StartWithConfigAsync(Func<int, string> configForPort, CancellationToken cancellationToken = default)
    {
        var directory = new TempDirectory("mosquitto");
        var port = FreeLoopbackPort();
        var configPath = Path.Combine(directory.Path, "mosquitto.conf");
        await File.WriteAllTextAsync(configPath, configForPort(port), cancellationToken);
        var broker = new MosquittoBroker(directory, port, configPath);
        try
        {
            await broker.StartProcessAsync(cancellationToken);
        }
        catch
        {
            await broker.DisposeAsync();
            throw;
        }

        return broker;
    }

    /// <summary>Stops the broker (as a crash would: SIGKILL) and starts it again on the same port.</summary>
    public async Task RestartAsync(TimeSpan downtime, CancellationToken cancellationToken = default)
    {
        StopProcess();
        await Task.Delay(downtime, cancellationToken);
        await StartProcessAsync(cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        StopProcess();
        _directory.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task StartProcessAsync(CancellationToken cancellationToken)
    {
        var executable = BrokerPaths.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed: run ./build.sh --target=bootstrap (apt-get install mosquitto).");
        var startInfo = new ProcessStartInfo(executable, ["-c", _configPath])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        // Ready means it accepts TCP on the port; give up after 10 s with what it printed.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"mosquitto exited with code {process.ExitCode}: {Log}");
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(20, cancellationToken);
            }
        }

        StopProcess();
        throw new TimeoutException($"mosquitto did not accept connections on port {Port} within 10 s: {Log}");
    }

    private void StopProcess()
    {
        var process = Interlocked.Exchange(ref _process, null);
        if (process is null)
        {
            return;
        }

        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        finally
        {
            process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_log)
        {
            _log.Add(line);
        }
    }

    /// <summary>A port no one listens on right now; the broker binds it a moment later.</summary>
    public static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
