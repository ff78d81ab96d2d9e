using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Integration.Tests.Board;

/// <summary>
/// The arm64 dq-agent from the .deb, under qemu-user as a Raspberry Pi 4 and as a Jetson Orin Nano, with that board's
/// config from the package (TLS swapped for the loopback broker), against Debian's mosquitto and a serving
/// coordinator: ready on a notify socket, a signed push verified and shaped to a budget below its size, a fine-tune
/// through the arm64 ONNX Runtime (generator samples) and the NEON training kernels, the state reported, SIGTERM.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed partial class BoardTests(Arm64Package package, FashionMnistShardSet shards, ITestOutputHelper output)
    : IClassFixture<Arm64Package>, IClassFixture<FashionMnistShardSet>
{
    private const string Dataset = "fmnist";

    /// <summary>Flash quota: the coordinator's policy gives half of it, 1 MiB, below the dataset's 1.5 MiB.</summary>
    private const long FlashQuotaBytes = 2L << 20;

    private static readonly TimeSpan Emulated = TimeSpan.FromSeconds(180);

    [BoardTheory]
    [MemberData(nameof(ArmBoard.Names), MemberType = typeof(ArmBoard))]
    public async Task The_packaged_agent_takes_a_push_shapes_it_fine_tunes_reports_and_stops_on_SIGTERM(string boardName)
    {
        ArmEmulation.EnsureAvailable();
        var board = ArmBoard.Named(boardName);
        var clock = Stopwatch.StartNew();
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var generator = bed.Dir.File("G.onnx");
        await DqPrograms.X64Async("generator", "fit", "--input", "fashion-mnist", "--limit", "2000", "--basis-samples", "1000", "--out", generator);

        // The emulated CPU has the cores the packaged board config says the board has.
        using (var config = JsonDocument.Parse(File.ReadAllBytes(package.BoardConfig(board.Name)), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip }))
        {
            Assert.Equal(board.Cores, config.RootElement.GetProperty("Device").GetProperty("Cores").GetInt32());
        }

        var data = Directory.CreateDirectory(bed.Dir.File($"data-{board}")).FullName;
        using var notify = NotifySocket.OnPath();
        using var agent = EmulatedAgent.Start(board, package.Agent, notify.Address,
        [
            "--device-config", package.BoardConfig(board.Name), "--broker", bed.Broker.Url, "--fleet", FleetBed.FleetName,
            "--device-id", board.Name, "--data-dir", data, "--coordinator-key", bed.PublicKeyPath,
            "--Sync:CaFile=", "--Sync:CertFile=", "--Sync:KeyFile=",
            "--Sync:FlashQuotaBytes", FlashQuotaBytes.ToString(CultureInfo.InvariantCulture),
            "--Sync:PullQuietPeriod", "00:00:00.500", "--Sync:PullRetryInterval", "00:00:02", "--Sync:StateReportInterval", "00:00:02",
            // A fitted generator carries no mixing rule (which would say none): a fixed share makes ONNX Runtime run.
            "--FineTune:GeneratorPath", generator, "--FineTune:SyntheticRatio", "0.25",
        ]);

        var ready = await notify.ReceiveUntilAsync("READY=1", Emulated);
        output.WriteLine($"{board}: READY=1 {clock.Elapsed.TotalSeconds:F1} s after the test began (emulated time, not a board's)");
        Assert.Contains(ready, m => m.Message.StartsWith("STATUS=", StringComparison.Ordinal));
        Assert.Matches($@"dq-agent {Regex.Escape(ArmEmulation.Version)}\S* on {board.Name}: device {board.Name} in fleet lab", agent.Output);

        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Any(d => d.DeviceId == board.Name && d.Online && d.ReportedBudgetVersion >= 1),
            Emulated, () => $"{board} reporting its budget:\n{agent.Output}");
        var push = await bed.PublishAsync(Dataset, shards.Directory);
        var budget = (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Single(d => d.DeviceId == board.Name).ReportedBudgetBytes!.Value;
        Assert.True(budget < shards.TotalBytes, $"budget {budget} is not below the dataset's {shards.TotalBytes} bytes: nothing to shape");

        // The run that new data starts: it ends in last-run.json, written after the model.
        var reportPath = Path.Combine(data, "fine-tune", "last-run.json");
        await FleetBed.WaitUntilAsync(() => Task.FromResult(File.Exists(reportPath)), Emulated, () => $"{board}: no fine-tune report:\n{agent.Output}");
        var report = JsonSerializer.Deserialize<FineTuneRun>(File.ReadAllBytes(reportPath), JsonSerializerOptions.Web)!;
        output.WriteLine($"{board}: {report.Message}; held-out accuracy {report.HeldOutAccuracy:P1} on {report.HeldOutSamples}; {clock.Elapsed.TotalSeconds:F1} s");

        // What it holds is what the budget allows, each shard whole and valid, and it trained on exactly that.
        var held = Directory.GetFiles(Path.Combine(data, "datasets", Dataset), "*.dqs");
        output.WriteLine($"{board}: holds {held.Length} shards, {held.Sum(f => new FileInfo(f).Length)} bytes, of {shards.Files.Count} shards, {shards.TotalBytes} bytes pushed; budget {budget}");
        Assert.NotEmpty(held);
        Assert.True(held.Sum(f => new FileInfo(f).Length) <= budget, $"{held.Sum(f => new FileInfo(f).Length)} bytes held over a budget of {budget}");
        Assert.All(DqsVerifier.VerifySet(held), v => Assert.True(v.IsValid, string.Join("; ", v.Problems)));
        using (var set = DqsShardSet.Open(held))
        {
            Assert.Equal(set.Count, report.TrainSamples + report.HeldOutSamples);
        }

        Assert.True(report.Completed, report.Message);
        Assert.Equal("NewData", report.Trigger);
        Assert.Equal("cpu", report.ExecutionProvider);
        Assert.True(report.GeneratorSamples > 0, "no generator samples: ONNX Runtime did not run");
        Assert.InRange(report.HeldOutAccuracy!.Value, 0.6, 1.0);

        // The retained state carries the holdings and the run.
        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Single(d => d.DeviceId == board.Name) is { BytesHeld: > 0 } d && d.BytesHeld <= budget,
            Emulated, () => $"{board}: the store never saw the holdings");
        var state = await RetainedStateAsync(bed, board);
        Assert.Contains("\"fine_tune_completed\":1", state, StringComparison.Ordinal);

        var threads = agent.GuestThreads;
        // The agent logs its managed heap each time it trims memory (after start-up, after a fine-tune): the guest's own numbers.
        var heapLines = HeapLines().Matches(agent.Output)
            .Select(m => $"after {m.Groups["reason"].Value}: {m.Groups["live"].Value} KiB live in {m.Groups["committed"].Value} KiB committed").ToArray();
        output.WriteLine($"{board}: {threads} guest threads idle after the run; managed heap (the agent's own trim log): {string.Join(" | ", heapLines)}");
        Assert.Contains(heapLines, line => line.StartsWith("after fine-tune", StringComparison.Ordinal));

        var stopping = notify.ReceiveUntilAsync("STOPPING=1", Emulated);
        Assert.Equal(0, await agent.StopAsync(Emulated));
        await stopping;
        output.WriteLine($"{board}: stopped cleanly, {clock.Elapsed.TotalSeconds:F1} s in all (emulated)");
    }

    private static async Task<string> RetainedStateAsync(FleetBed bed, ArmBoard board)
    {
        var deadline = DateTime.UtcNow + Emulated;
        while (true)
        {
            var result = await ExternalProgram.RunAsync("mosquitto_sub",
                ["-h", "127.0.0.1", "-p", bed.Broker.Port.ToString(CultureInfo.InvariantCulture), "-V", "mqttv5",
                 "-t", bed.Topics.DeviceState(board.Name), "-C", "1", "-W", "5"], TimeSpan.FromSeconds(20));
            var state = result.StdOut.Replace(" ", "", StringComparison.Ordinal);
            if (state.Contains("\"fine_tune_completed\"", StringComparison.Ordinal) || DateTime.UtcNow > deadline)
            {
                return state;
            }

            await Task.Delay(500);
        }
    }

    /// <summary>The agent's fine-tune/last-run.json, as its FineTuneReport writes it (camelCase).</summary>
    private sealed record FineTuneRun(
        string Trigger, bool Completed, string Message, double? HeldOutAccuracy, int TrainSamples, int GeneratorSamples, int HeldOutSamples, string ExecutionProvider);

    [GeneratedRegex(@"Memory trimmed after (?<reason>[\w-]+): .*?heap (?<live>\d+) KiB live in (?<committed>\d+) KiB committed")]
    private static partial Regex HeapLines();
}
