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

        foreach (var name in new[] { "NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID", "JOURNAL_STREAM" })
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
        var key = data.File("coordinator.pub.pem");
        File.WriteAllText(key, "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----\n");
        using var process = Start(
            ["--device-config", DevConfig, "--data-dir", data.Path, "--coordinator-key", key, "--device-id", "dev-proc"],
            new Dictionary<string, string> { ["NOTIFY_SOCKET"] = socket.Address, ["WATCHDOG_USEC"] = "2000000", ["INVOCATION_ID"] = "0123abcd" });
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();

        var ready = await socket.ReceiveUntilAsync("READY=1", TimeSpan.FromSeconds(20));
        Assert.Contains(ready, m => m.Message.Contains($"MAINPID={process.Id}", StringComparison.Ordinal));
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
