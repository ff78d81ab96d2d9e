using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>The real <c>dq-coordinator publish</c> process against mosquitto, a serving coordinator and one device.</summary>
[Collection(FleetCollection.Name)]
public sealed class PublishCommandTests(FashionMnistShardSet shards) : IClassFixture<FashionMnistShardSet>
{
    [Fact]
    public async Task Publish_pushes_the_next_version_records_it_and_refuses_to_go_backwards()
    {
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var device = await bed.StartDeviceAsync("pi-cli");
        await FleetBed.WaitUntilAsync(async () => (await bed.Store.GetDeviceAsync(FleetBed.FleetName, "pi-cli"))?.Online == true, TimeSpan.FromSeconds(30), () => "device online");

        string[] common = ["--broker", bed.Broker.Url, "--fleet", FleetBed.FleetName, "--dataset", "fmnist", "--shards", shards.Directory, "--key", bed.KeyPath, "--db", bed.Store.Path];
        var first = await RunAsync(["publish", .. common]);
        Assert.True(first.ExitCode == 0, first.Output);
        Assert.Contains($"published fmnist v1: {shards.Files.Count} shards", first.Output);

        await FleetBed.WaitUntilAsync(() => Task.FromResult(device.HasStored("fmnist", 1)), TimeSpan.FromSeconds(30), () => "device got v1");
        Assert.Empty(FleetBed.Differences(device, "fmnist", shards.Files));
        var recorded = await bed.Store.GetDatasetAsync(FleetBed.FleetName, "fmnist");
        Assert.Equal(1, recorded!.ManifestVersion);
        Assert.NotNull(recorded.SignedManifest);
        Assert.Equal(shards.TotalBytes, recorded.TotalBytes);
        Assert.Single(await bed.Store.ListBroadcastsAsync(FleetBed.FleetName, "fmnist"));

        var second = await RunAsync(["publish", .. common]);
        Assert.True(second.ExitCode == 0, second.Output);
        Assert.Contains("published fmnist v2", second.Output);

        var backwards = await RunAsync(["publish", .. common, "--version", "1"]);
        Assert.Equal(2, backwards.ExitCode);
        Assert.Contains("not above version 2", backwards.Output);
        Assert.Equal(2, (await bed.Store.GetDatasetAsync(FleetBed.FleetName, "fmnist"))!.ManifestVersion);

        var status = await RunAsync(["status", "--db", bed.Store.Path]);
        Assert.True(status.ExitCode == 0, status.Output);
        Assert.Contains("pi-cli", status.Output);
        Assert.Contains("fmnist", status.Output);
    }

    [Fact]
    public async Task Publish_to_a_broker_that_is_not_there_fails_with_exit_code_2()
    {
        using var dir = new DatasetQuant.Testing.TempDirectory("publish-nobroker");
        var key = dir.File("k.pem");
        Assert.Equal(0, (await RunAsync(["keygen", "--out", key])).ExitCode);
        var port = DatasetQuant.Testing.MosquittoBroker.FreeLoopbackPort();
        var result = await RunAsync(["publish", "--broker", $"mqtt://127.0.0.1:{port}", "--fleet", "lab", "--dataset", "d", "--shards", shards.Directory, "--key", key]);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error:", result.Output);
    }

    private static Task<ToolResult> RunAsync(string[] args) => DotnetTool.RunAsync("dq-coordinator.dll", TimeSpan.FromSeconds(60), args);
}
