using System.Diagnostics;
using System.Text;

namespace DatasetQuant.Integration.Tests;

/// <summary>Debian's mosquitto_pub and mosquitto_sub over TLS, as an operator would run them against the broker.</summary>
public sealed class MosquittoClients(int port, string certificateDirectory)
{
    /// <summary>TLS flags for <paramref name="identity"/> (a file stem in the certificate directory), or CA only when null.</summary>
    private IEnumerable<string> Connection(string? identity, string? caFile = null)
    {
        yield return "-h";
        yield return "127.0.0.1";
        yield return "-p";
        yield return port.ToString();
        yield return "-V";
        yield return "mqttv5";
        yield return "--cafile";
        yield return caFile ?? Path.Combine(certificateDirectory, "fleet-ca.crt");
        if (identity is not null)
        {
            yield return "--cert";
            yield return Path.Combine(certificateDirectory, identity + ".crt");
            yield return "--key";
            yield return Path.Combine(certificateDirectory, identity + ".key");
        }
    }

    public Task<ToolResult> PublishAsync(string? identity, string topic, string payload, string? caFile = null) =>
        RunAsync("mosquitto_pub", [.. Connection(identity, caFile), "-q", "1", "-t", topic, "-m", payload]);

    /// <summary>Subscribes and returns once the broker has answered the SUBSCRIBE.</summary>
    public async Task<Subscription> SubscribeAsync(string identity, string topicFilter)
    {
        // -W is only a safety net: the test stops the subscriber once it has what it waited for. stdbuf: into a pipe,
        // mosquitto_sub's stdout is block-buffered and the SUBACK line would not show until it exits.
        var process = Start("stdbuf", ["-oL", "mosquitto_sub", .. Connection(identity), "-q", "1", "-t", topicFilter, "-v", "-d", "-W", "120"]);
        var subscription = new Subscription(process);
        await subscription.WaitForSubackAsync();
        return subscription;
    }

    private static Process Start(string tool, IEnumerable<string> args)
    {
        var startInfo = new ProcessStartInfo(tool)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        return Process.Start(startInfo) ?? throw new InvalidOperationException($"{tool} did not start (apt-get install mosquitto-clients)");
    }

    private static async Task<ToolResult> RunAsync(string tool, IEnumerable<string> args)
    {
        using var process = Start(tool, args);
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await process.WaitForExitAsync(timeout.Token);
        return new ToolResult(process.ExitCode, await stdout + await stderr);
    }

    public sealed record ToolResult(int ExitCode, string Output);

    /// <summary>A running mosquitto_sub; <see cref="MessagesAsync"/> collects its "topic payload" lines.</summary>
    public sealed class Subscription : IDisposable
    {
        private readonly Process _process;
        private readonly StringBuilder _output = new();
        private readonly TaskCompletionSource _suback = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Subscription(Process process)
        {
            _process = process;
            _process.OutputDataReceived += (_, e) => Append(e.Data);
            _process.ErrorDataReceived += (_, e) => Append(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
            _process.EnableRaisingEvents = true;
            _process.Exited += (_, _) => _suback.TrySetException(new InvalidOperationException($"mosquitto_sub exited before SUBACK: {Output}"));
        }

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return _output.ToString();
                }
            }
        }

        public Task WaitForSubackAsync() => _suback.Task.WaitAsync(TimeSpan.FromSeconds(15));

        /// <summary>
        /// Waits until <paramref name="expected"/> messages have arrived (or <paramref name="timeout"/> passed), then
        /// <paramref name="linger"/> longer for any that should not come, stops the subscriber and returns them all.
        /// </summary>
        public async Task<string[]> MessagesAsync(int expected, TimeSpan timeout, TimeSpan linger)
        {
            var clock = Stopwatch.StartNew();
            while (Messages().Length < expected && clock.Elapsed < timeout && !_process.HasExited)
            {
                await Task.Delay(20);
            }

            await Task.Delay(linger);
            Dispose();
            return Messages();
        }

        private string[] Messages() =>
            Output.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.StartsWith("dq/", StringComparison.Ordinal)).ToArray();

        public void Dispose()
        {
            try
            {
                if (!_process.HasExited)
                {
                    _process.Kill();
                    _process.WaitForExit(5000);
                }
            }
            catch (InvalidOperationException)
            {
                // Already disposed by an earlier call.
            }
        }

        private void Append(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(line);
            }

            if (line.StartsWith("Subscribed (mid", StringComparison.Ordinal))
            {
                _suback.TrySetResult();
            }
        }
    }
}
