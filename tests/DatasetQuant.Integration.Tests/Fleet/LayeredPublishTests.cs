using System.Text.Json;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>
/// Protocol version 2 through the real programs' code: the <c>dq-coordinator publish</c> process on a folder written with
/// embedded codes, the serving coordinator answering the device's layer pulls from its store, a device on mosquitto.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed class LayeredPublishTests
{
    [Fact]
    public async Task Publish_of_an_embedded_folder_sends_layers_that_a_device_pulls_up_to_its_quota()
    {
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var source = Directory.CreateDirectory(bed.Dir.File("fmnist-embedded")).FullName;
        var images = IdxReader.Read(TestData.FashionMnist("t10k-images-idx3-ubyte.gz"), TestData.FashionMnist("t10k-labels-idx1-ubyte.gz"), "fmnist").Take(1500);
        DatasetQuantizer.Quantize(images, new QuantizeOptions { Budget = Budget.Parse("8bpp"), OutputDirectory = source, ShardPrefix = "fmnist", EmbeddedCodes = true });
        var full = new FileInfo(Directory.GetFiles(source, "*.dqs").Single()).Length;
        var options = bed.DeviceOptions("pi-layers");
        options.FlashQuotaBytes = full / 3;
        await using var device = new FleetDevice(options, bed.LoggerFactory);
        await device.StartAsync();
        await FleetBed.WaitUntilAsync(async () => (await bed.Store.GetDeviceAsync(FleetBed.FleetName, "pi-layers"))?.Online == true, TimeSpan.FromSeconds(30), () => "device online");
        // The budget it applies (the coordinator's, capped by its quota) is known before the publish, so a layer ends there.
        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.GetDeviceAsync(FleetBed.FleetName, "pi-layers"))?.ReportedBudgetVersion is { } applied
                        && applied == (await bed.Store.GetDesiredBudgetAsync(FleetBed.FleetName, "pi-layers"))?.Version,
            TimeSpan.FromSeconds(30),
            () => "device applied its budget");
        var budget = (await bed.Store.GetDeviceAsync(FleetBed.FleetName, "pi-layers"))!.ReportedBudgetBytes!.Value;

        var publish = await RunAsync(["publish", "--broker", bed.Broker.Url, "--fleet", FleetBed.FleetName, "--dataset", "fmnist", "--shards", source, "--key", bed.KeyPath, "--db", bed.Store.Path]);
        Assert.True(publish.ExitCode == 0, publish.Output);
        Assert.Contains("published fmnist v1 (protocol version 6)", publish.Output);
        Assert.Contains("(also ending at 1 device budget) and 1 prefix served whole (", publish.Output);
        Assert.Equal(Path.Combine(source, "layers", "v1"), (await bed.Store.GetDatasetAsync(FleetBed.FleetName, "fmnist"))!.ShardDirectory);

        await FleetBed.WaitUntilAsync(() => Task.FromResult(device.HasStored("fmnist", 1)), TimeSpan.FromSeconds(60), () => "device got fmnist v1");
        using var state = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(options.DataDirectory, "sync-state.json")));
        var holdings = state.RootElement.GetProperty("datasets").GetProperty("fmnist");
        var layers = holdings.GetProperty("layersApplied").GetInt32();
        var shards = holdings.GetProperty("signed").GetProperty("manifest").GetProperty("shards");
        var increments = Enumerable.Range(0, layers).Sum(l => shards[l].GetProperty("layer").GetProperty("incrementCount").GetInt32());
        var held = device.ShardPath("fmnist", "fmnist.dqs");
        Assert.InRange(layers, 1, shards.GetArrayLength() - 3);
        Assert.InRange(budget, 1, full / 3);
        // Within one increment (planes, index entry, held-increment bytes) of the budget, not a 1 % layer below it.
        Assert.InRange(budget - holdings.GetProperty("layeredBytes").GetInt64(), 0, 784 + 16 + 8);
        // At the budget a layer ends at, the device takes the copy served whole: what it keeps and the chunks' frame headers.
        Assert.True(holdings.GetProperty("receivedBytes").GetInt64() <= 1.01 * holdings.GetProperty("layeredBytes").GetInt64());

        // Byte for byte the coordinator's own shard re-quantized to the widths of the prefix the device holds.
        var order = IncrementOrder.Read(Path.Combine(source, "fmnist.dqo"));
        var widths = new byte[order.SampleCount];
        order.WidthsAfter(increments, widths);
        var expected = bed.Dir.File("expected.dqs");
        using (var shard = DqsReader.Open(Directory.GetFiles(source, "*.dqs").Single()))
        {
            DqsShardRewriter.Write(shard, widths, expected);
        }

        Assert.Equal(await File.ReadAllBytesAsync(expected), await File.ReadAllBytesAsync(held));
    }

    private static Task<ToolResult> RunAsync(string[] args) => DotnetTool.RunAsync("dq-coordinator.dll", TimeSpan.FromSeconds(120), args);
}
