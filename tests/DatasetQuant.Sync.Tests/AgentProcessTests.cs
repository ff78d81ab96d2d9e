using System.Diagnostics;
using DatasetQuant.Mqtt;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>dq-agent as a real process (the built dq-agent.dll) against mosquitto: receive, be SIGKILLed, resume.</summary>
public sealed class AgentProcessTests
{
    [Fact]
    public async Task Two_agent_processes_receive_a_push_and_one_killed_mid_transfer_resumes_after_restart()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var coordinator = await new MqttConnectionFactory().ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        await using var bed = new SyncTestBed(coordinatorConnection: coordinator);
        var steady = StartAgent(bed, broker, "agent-a");
        var killed = StartAgent(bed, broker, "agent-b");
        try
        {
            await Task.Delay(1500); // process start and subscribe; a late subscriber repairs, which is also fine
            var shards = bed.CreateShards("v1", 1_500_000, 1_500_000);
            var dirB = Path.Combine(bed.Root.File("agents/agent-b"), "datasets", "fmnist");
            var publish = bed.PublishAsync("fmnist", 1, shards);

            // Kill agent-b as soon as it has part of a shard on flash.
            await SyncTestBed.WaitUntilAsync(() => Directory.Exists(dirB) && Directory.GetFiles(dirB, "*.partial").Length > 0, "a partial shard", bed.Log, 60_000);
            killed.Kill();
            await killed.WaitForExitAsync();
            await publish;
            killed = StartAgent(bed, broker, "agent-b");

            foreach (var id in new[] { "agent-a", "agent-b" })
            {
                var dir = Path.Combine(bed.Root.File("agents/" + id), "datasets", "fmnist");
                try
                {
                    await SyncTestBed.WaitUntilAsync(() => HoldsExactly(dir, shards), $"{id} to hold the dataset", bed.Log, 90_000);
                }
                catch (TimeoutException timeout)
                {
                    throw new TimeoutException($"{id} holds {Listing(dir)}; {timeout.Message}");
                }
            }
        }
        finally
        {
            foreach (var process in new[] { steady, killed })
            {
                if (!process.HasExited)
                {
                    process.Kill();
                    await process.WaitForExitAsync();
                }

                process.Dispose();
            }
        }
    }

    private static bool HoldsExactly(string heldDirectory, string sourceDirectory)
    {
        if (!Directory.Exists(heldDirectory) || Directory.GetFiles(heldDirectory).Length != 2)
        {
            return false;
        }

        return Directory.GetFiles(sourceDirectory).All(source =>
        {
            var held = Path.Combine(heldDirectory, Path.GetFileName(source));
            return File.Exists(held) && File.ReadAllBytes(held).AsSpan().SequenceEqual(File.ReadAllBytes(source));
        });
    }

    private static string Listing(string directory) =>
        Directory.Exists(directory) ? string.Join(", ", Directory.GetFiles(directory).Select(Path.GetFileName).Order(StringComparer.Ordinal)) : "no directory";

    private static Process StartAgent(SyncTestBed bed, MosquittoBroker broker, string id)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            Path.Combine(AppContext.BaseDirectory, "dq-agent.dll"),
            "--device-config", Path.Combine(AppContext.BaseDirectory, "device-configs", "dev-x64.json"),
            "--broker", broker.Url, "--fleet", SyncTestBed.Fleet, "--device-id", id,
            "--data-dir", bed.Root.File("agents/" + id), "--coordinator-key", bed.PublicKeyPath,
            "--Sync:PullQuietPeriod", "00:00:00.500", "--Sync:PullRetryInterval", "00:00:01",
        })
        {
            startInfo.ArgumentList.Add(arg);
        }

        var process = Process.Start(startInfo)!;
        process.OutputDataReceived += (_, e) => Log(bed, id, e.Data);
        process.ErrorDataReceived += (_, e) => Log(bed, id, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Log(SyncTestBed bed, string id, string? line)
    {
        if (line is not null)
        {
            bed.Log.For<AgentProcessTests>().Log(Microsoft.Extensions.Logging.LogLevel.Information, default, $"[{id}] {line}", null, (s, _) => s);
        }
    }
}
