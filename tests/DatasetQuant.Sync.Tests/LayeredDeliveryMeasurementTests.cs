using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Shards;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// The numbers of docs/results.md ("Layers on the wire"), measured over mosquitto on loopback with the whole
/// Fashion-MNIST test set published at 8 bpp: per budget, the bytes each device received against the bytes it keeps,
/// and the 3 MB device through protocol version 1 (the same shard without its order) and version 2.
/// </summary>
public sealed class LayeredDeliveryMeasurementTests(ITestOutputHelper output)
{
    private const int Samples = 10_000;

    [Fact]
    public async Task Every_budget_receives_at_most_a_tenth_more_than_it_keeps_and_the_3_MB_device_keeps_twice_what_version_1_left_it()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        var coordinator = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        await using var bed = new SyncTestBed(coordinatorConnection: coordinator);
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-test-8bpp"), Samples);
        var budgets = new[] { 0.25, 0.5, 1, 2, 4 }.Select(bpp => ($"bpp-{bpp}", EmbeddedFashionMnist.BudgetBytes(bpp, Samples))).Append(("quota-3MB", 3_000_000L)).ToArray();
        var devices = new List<(TestDevice Device, long Budget)>();
        foreach (var (id, budget) in budgets)
        {
            var device = bed.AddDevice(id, o => { o.FlashQuotaBytes = budget; o.BrokerUrl = broker.Url; });
            device.Start(await factory.ConnectAsync(device.Options.ToConnectionOptions(DeviceSyncEngine.CreateWill(device.Options))));
            devices.Add((device, budget));
        }

        await Task.Delay(500);
        // As dq-coordinator publish does with the budgets it gave: a layer ends at each (and at the sequence's).
        var steps = new[] { 1.0, 2, 0.5 };
        var cuts = budgets.Select(b => b.Item2).Concat(steps.Select(bpp => EmbeddedFashionMnist.BudgetBytes(bpp, Samples)));
        var manifest = (await bed.PublishAsync("fmnist", 1, source, cuts)).Manifest;
        output.WriteLine($"published: {manifest.LayerCount} layers and {ManifestPrefix.List(manifest).Count()} prefixes, {manifest.TotalBytes} bytes of files, {manifest.FullHeldBytes} held at full precision");
        output.WriteLine("device | budget | layers | bytes kept | bytes received | received/kept | mean bpp held");
        foreach (var (device, budget) in devices)
        {
            var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, budget);
            await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{device.Id} to hold {held} bytes", bed.Log, 180_000);
            var received = device.Engine!.ChunkBytesReceived;
            output.WriteLine($"{device.Id} | {budget} | {layers} | {held} | {received} | {(double)received / held:F3} | {manifest.Shards[layers - 1].BitsPerPixel:F3}");
            Assert.True(received <= 1.1 * held, $"{device.Id}: received {received} for {held} kept");
            // Within one increment of the budget: at most 784 bytes of planes, an index entry and 8 bytes of held increments.
            Assert.True(held <= budget && held >= budget - 784 - 16 - 8, $"{device.Id}: {held} kept of {budget}");
            Assert.Equal(
                EmbeddedFashionMnist.Expected(source, increments, bed.Root.File($"expected-{device.Id}.dqs")),
                File.ReadAllBytes(Path.Combine(device.DatasetDirectory("fmnist"), "fmnist.dqs")));
        }

        Assert.True(devices[^1].Device.Engine!.HeldBytes > 2_900_000);

        // A budget sequence 1 -> 2 -> 0.5 bpp set by the coordinator: what moves at each step.
        var budgets2 = new BudgetPublisher(bed.Coordinator, bed.Topics);
        var walker = bed.AddDevice("sequence", o => o.BrokerUrl = broker.Url);
        await budgets2.PublishAsync(walker.Id, 1, EmbeddedFashionMnist.BudgetBytes(steps[0], Samples));
        walker.Start(await factory.ConnectAsync(walker.Options.ToConnectionOptions(DeviceSyncEngine.CreateWill(walker.Options))));
        long before = 0;
        for (var step = 0; step < steps.Length; step++)
        {
            var budget = EmbeddedFashionMnist.BudgetBytes(steps[step], Samples);
            if (step > 0)
            {
                await budgets2.PublishAsync(walker.Id, step + 1, budget);
            }

            var (layers, _, held) = EmbeddedFashionMnist.Prefix(manifest, budget);
            await SyncTestBed.WaitUntilAsync(() => walker.Engine!.HeldBytes == held, $"step {step}: {held} bytes", bed.Log, 180_000);
            var moved = walker.Engine!.ChunkBytesReceived - before;
            before = walker.Engine.ChunkBytesReceived;
            output.WriteLine($"sequence {steps[step]} bpp | budget {budget} | {layers} layers | holds {held} | received {moved}");
            if (step == 2)
            {
                Assert.Equal(0, moved);
            }
        }
    }

    [Fact]
    public async Task Through_version_1_the_3_MB_device_receives_the_whole_8_bpp_shard_and_keeps_a_uniform_shrink_of_it()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        var coordinator = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        await using var bed = new SyncTestBed(coordinatorConnection: coordinator);
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-test-8bpp"), Samples);
        var whole = Directory.CreateDirectory(bed.Root.File("fmnist-test-8bpp-v1")).FullName;
        File.Copy(Directory.GetFiles(source, "*.dqs").Single(), Path.Combine(whole, "fmnist-00000.dqs"));
        var device = bed.AddDevice("v1-quota-3MB", o => { o.FlashQuotaBytes = 3_000_000; o.BrokerUrl = broker.Url; }, new DqsShardRequantizer());
        device.Start(await factory.ConnectAsync(device.Options.ToConnectionOptions(DeviceSyncEngine.CreateWill(device.Options))));
        await Task.Delay(500);
        var manifest = (await bed.PublishAsync("fmnist", 1, whole)).Manifest;
        Assert.False(manifest.IsLayered);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the version 1 device", bed.Log, 180_000);
        var (held, received) = (device.Engine!.HeldBytes, device.Engine.ChunkBytesReceived);
        output.WriteLine($"v1-quota-3MB | 3000000 | – | {held} | {received} | {(double)received / held:F3} | –");
        Assert.True(received >= manifest.TotalBytes && held <= 3_000_000);
    }
}
