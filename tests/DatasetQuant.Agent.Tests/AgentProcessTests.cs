using System.Diagnostics;
using DatasetQuant.Testing;

namespace DatasetQuant.Agent.Tests;

/// <summary>The built dq-agent as systemd would run it: a separate process, a notify socket, SIGTERM.</summary>
public sealed class AgentProcessTests
{
    private static readonly string DevConfig = Path.Combine(AppContext.BaseDirectory, "device-configs", "dev-x64.json");

    private static Process Start(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dq-agent.dll"));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        foreach (var name in new[] { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM", "SYSTEMD_EXEC_PID" })
        {
            startInfo.Environment.Remove(name);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            startInfo.Environment[name] = value;
        }

        return Process.Start(startInfo)!;
    }

    private static async Task<(int Code, string Out, string Err)> RunAsync(IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var process = Start(args, environment);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Under_systemd_it_says_ready_then_stopping_on_SIGTERM_and_logs_in_journal_format()
    {
        using var data = new TempDirectory("agent");
        using var socket = NotifySocket.Abstract();
        var key = TestKeys.WriteCoordinatorKey(data.Path);

        // Started by this test, not by systemd: NOTIFY_SOCKET alone must be enough for READY=1 and STOPPING=1.
        using var process = Start(
            ["--device-config", DevConfig, "--data-dir", data.Path, "--coordinator-key", key, "--device-id", "dev-proc"],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Address, ["WATCHDOG_USEC"] = "2000000", ["JOURNAL_STREAM"] = "8:12345" });
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        var ready = await socket.ReceiveUntilAsync("READY=1", TimeSpan.FromSeconds(20));
        Assert.Equal("READY=1", ready[^1].Message);
        Assert.Contains(ready, m => m.Message.StartsWith("STATUS=idle", StringComparison.Ordinal));
        await socket.ReceiveUntilAsync("WATCHDOG=1", TimeSpan.FromSeconds(5));
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        await socket.ReceiveUntilAsync("STOPPING=1", TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        Assert.Equal(0, process.ExitCode);
        var log = await stdout + await stderr;

        // journald format: "<priority>category[event] message", no timestamp of our own, one line per entry.
        Assert.Matches(@"(?m)^<6>DatasetQuant\.Agent\.AgentStartupLog\[\d+\] dq-agent .* on dev-x64: device dev-proc in fleet dev", log);
        Assert.Matches(@"(?m)^<4>DatasetQuant\.Gpio\.GpioConnection\[\d+\] GPIO unavailable, running without status LED and button: GPIO chip 'gpiochip0'", log);
    }

    [Fact]
    public async Task A_notify_socket_on_a_path_gets_ready_and_stopping_and_a_terminal_gets_plain_lines()
    {
        using var data = new TempDirectory("agent");
        using var socket = NotifySocket.OnPath();
        var key = TestKeys.WriteCoordinatorKey(data.Path);
        using var process = Start(
            ["--device-config", DevConfig, "--data-dir", data.Path, "--coordinator-key", key, "--device-id", "dev-path"],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Address });
        var stdout = process.StandardOutput.ReadToEndAsync();

        await socket.ReceiveUntilAsync("READY=1", TimeSpan.FromSeconds(20));
        using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]))
        {
            await kill.WaitForExitAsync();
        }

        var stopping = await socket.ReceiveUntilAsync("STOPPING=1", TimeSpan.FromSeconds(10));
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);

        // No WATCHDOG_USEC: no pings. No JOURNAL_STREAM: timestamped single lines, no journal priorities.
        Assert.DoesNotContain(stopping, m => m.Message.Contains("WATCHDOG=1", StringComparison.Ordinal));
        Assert.Equal(0, process.ExitCode);
        var log = await stdout;
        Assert.Matches(@"(?m)^\d\d:\d\d:\d\d\.\d{3} info: DatasetQuant\.Agent\.AgentStartupLog\[\d+\] dq-agent .* device dev-path", log);
        Assert.DoesNotMatch(@"(?m)^<\d>", log);
    }

    [Fact]
    public async Task With_a_broker_it_reports_its_state_and_a_command_starts_a_fine_tune()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        using var data = new TempDirectory("agent");
        var key = TestKeys.WriteCoordinatorKey(data.Path);
        using var process = Start(
        [
            "--device-config", DevConfig, "--data-dir", data.Path, "--coordinator-key", key, "--device-id", "dev-mqtt",
            "--fleet", "lab", "--broker", broker.Url,
        ]);
        var stdout = process.StandardOutput.ReadToEndAsync();
        try
        {
            // The sync session subscribes to the command topic a moment after start; repeat the command until a run is recorded.
            var report = FineTuning.FineTuneReport.PathIn(data.Path);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (!File.Exists(report))
            {
                Assert.True(DateTime.UtcNow < deadline, "no fine-tune report after 30 s of commands");
                await Tool("mosquitto_pub", "-h", "127.0.0.1", "-p", broker.Port.ToString(), "-V", "mqttv5", "-q", "1",
                    "-t", "dq/v1/lab/devices/dev-mqtt/command", "-m", "{\"command\":\"fine-tune\"}");
                await Task.Delay(300);
            }

            Assert.Equal("Command", FineTuning.FineTuneReport.ReadFrom(data.Path)!.Trigger);

            // The command came over the sync session: the agent holds one connection to the broker, not two.
            Assert.Equal(1, EstablishedConnections(process.Id, broker.Port));

            // The retained state carries the run's numbers once the sync loop has published the requested report.
            string state = "";
            while (!state.Contains("fine_tune_completed", StringComparison.Ordinal))
            {
                Assert.True(DateTime.UtcNow < deadline, $"state never carried the fine-tune numbers: {state}");
                state = await Tool("mosquitto_sub", "-h", "127.0.0.1", "-p", broker.Port.ToString(), "-V", "mqttv5",
                    "-t", "dq/v1/lab/devices/dev-mqtt/state", "-C", "1", "-W", "5");
                await Task.Delay(200);
            }

            Assert.Contains("\"fine_tune_completed\":0", state.Replace(" ", "", StringComparison.Ordinal), StringComparison.Ordinal);
        }
        finally
        {
            using var kill = Process.Start("kill", ["-TERM", process.Id.ToString()]);
            await kill.WaitForExitAsync();
            await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("Fine-tune command received", await stdout, StringComparison.Ordinal);
    }

    /// <summary>TCP connections in ESTABLISHED state from the process <paramref name="pid"/> to <paramref name="port"/>.</summary>
    private static int EstablishedConnections(int pid, int port)
    {
        var sockets = new HashSet<string>(StringComparer.Ordinal);
        foreach (var fd in Directory.EnumerateFileSystemEntries($"/proc/{pid}/fd"))
        {
            if (new FileInfo(fd).LinkTarget is { } target && target.StartsWith("socket:[", StringComparison.Ordinal))
            {
                sockets.Add(target["socket:[".Length..^1]);
            }
        }

        // /proc/net/tcp rows: sl local_address rem_address st ... inode; addresses are hex "IP:PORT", state 01 is ESTABLISHED.
        var remote = $":{port:X4}";
        return File.ReadLines($"/proc/{pid}/net/tcp").Concat(File.ReadLines($"/proc/{pid}/net/tcp6"))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Count(f => f.Length > 9 && f[2].EndsWith(remote, StringComparison.Ordinal) && f[3] == "01" && sockets.Contains(f[9]));
    }

    private static async Task<string> Tool(string tool, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync(new CancellationTokenSource(TimeSpan.FromSeconds(20)).Token);
        return await output + await error;
    }

    [Fact]
    public async Task The_command_line_beats_DQ_variables_which_beat_the_device_config()
    {
        var args = new List<string> { "--device-config", DevConfig, "--device-id", "dev-proc" };
        var environment = new Dictionary<string, string> { ["DQ_Sync__BrokerUrl"] = "ftp://from-environment" };

        var fromEnvironment = await RunAsync(args, environment);
        var fromCommandLine = await RunAsync([.. args, "--broker", "gopher://from-command-line"], environment);

        Assert.Equal(78, fromEnvironment.Code);
        Assert.Contains("Sync:BrokerUrl 'ftp://from-environment' has scheme 'ftp'", fromEnvironment.Out, StringComparison.Ordinal);
        Assert.Equal(78, fromCommandLine.Code);
        Assert.Contains("Sync:BrokerUrl 'gopher://from-command-line' has scheme 'gopher'", fromCommandLine.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Usage_and_config_file_errors_name_what_is_wrong()
    {
        using var dir = new TempDirectory();
        var broken = dir.File("broken.json");
        File.WriteAllText(broken, "{ \"Sync\": { \"BrokerUrl\": ");

        var typo = await RunAsync(["--brokr", "mqtt://x"]);
        var missing = await RunAsync(["--device-config", dir.File("absent.json")]);
        var malformed = await RunAsync(["--device-config", broken]);
        var version = await RunAsync(["--version"]);

        Assert.Equal(64, typo.Code);
        Assert.Contains("unknown option '--brokr'", typo.Err, StringComparison.Ordinal);
        Assert.Equal(78, missing.Code);
        Assert.Contains($"device config '{dir.File("absent.json")}' does not exist", missing.Err, StringComparison.Ordinal);
        Assert.Equal(78, malformed.Code);
        Assert.Contains("broken.json", malformed.Err, StringComparison.Ordinal);
        Assert.Matches(@"^dq-agent \d+\.\d+\.\d+", version.Out);
    }
}
