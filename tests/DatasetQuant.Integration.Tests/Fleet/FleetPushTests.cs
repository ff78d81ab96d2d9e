using System.Diagnostics;
using Xunit.Abstractions;

namespace DatasetQuant.Integration.Tests.Fleet;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class FleetCollection
{
    public const string Name = "fleet over mosquitto";
}

/// <summary>One coordinator, twenty devices and a real broker on loopback, pushing a real multi-shard dataset.</summary>
[Collection(FleetCollection.Name)]
public sealed class FleetPushTests(FashionMnistShardSet shards, ITestOutputHelper output) : IClassFixture<FashionMnistShardSet>
{
    private const int DeviceCount = 20;
    private static readonly TimeSpan TransferTimeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Twenty_devices_receive_the_dataset_byte_exact_and_a_late_device_gets_it_by_repair()
    {
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var devices = new List<FleetDevice>();
        for (var i = 0; i < DeviceCount; i++)
        {
            devices.Add(await bed.StartDeviceAsync($"pi-{i:D2}"));
        }

        // Every device has reported and got its budget before the push.
        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Count(d => d.Online && d.ReportedBudgetVersion >= 1) == DeviceCount,
            TransferTimeout, () => "devices reporting their applied budgets");

        var push = await bed.PublishAsync("fmnist", shards.Directory);
        output.WriteLine($"pushed {push.Shards} shards, {push.ShardBytes} bytes, {push.Chunks} chunks in {push.Elapsed.TotalMilliseconds:F0} ms");
        await FleetBed.WaitUntilAsync(
            () => Task.FromResult(devices.All(d => d.HasStored("fmnist", push.Version))), TransferTimeout,
            () => $"devices without the dataset: {string.Join(", ", devices.Where(d => !d.HasStored("fmnist", push.Version)).Select(d => d.Id))}");
        foreach (var device in devices)
        {
            Assert.Empty(FleetBed.Differences(device, "fmnist", shards.Files));
        }

        var repairsBefore = (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Sum(t => t.Chunks);

        // A device that connects after the broadcast has only the retained manifest: it must pull everything.
        var clock = Stopwatch.StartNew();
        var late = await bed.StartDeviceAsync("pi-late");
        await FleetBed.WaitUntilAsync(() => Task.FromResult(late.HasStored("fmnist", push.Version)), TransferTimeout, () => "the late device");
        output.WriteLine($"late device complete {clock.ElapsedMilliseconds} ms after start");
        Assert.Empty(FleetBed.Differences(late, "fmnist", shards.Files));

        // The repair is recorded once its last chunk is out, which can be a moment after the device finished.
        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Any(t => t.DeviceId == "pi-late" && t.Chunks >= push.Chunks),
            TimeSpan.FromSeconds(10), () => "the late device's repairs in the store");
        var lateRepairs = (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Single(t => t.DeviceId == "pi-late");
        Assert.True(lateRepairs.Chunks >= push.Chunks, $"the late device got {lateRepairs.Chunks} repair chunks of {push.Chunks}");
        output.WriteLine($"repair chunks before the late device: {repairsBefore}; late device: {lateRepairs.Chunks} chunks, {lateRepairs.Bytes} bytes");

        // The store knows what everyone holds once they report it.
        await FleetBed.WaitUntilAsync(
            async () =>
            {
                var held = await bed.Store.ListDevicesAsync(FleetBed.FleetName);
                return held.Count == DeviceCount + 1 && held.All(d => d.BytesHeld == shards.TotalBytes && d.ShardsHeld == shards.Files.Count);
            },
            TimeSpan.FromSeconds(20), () => "state reports of the holdings");
    }

    [Fact]
    public async Task Broker_restarted_in_the_middle_of_a_push_every_device_completes()
    {
        // Larger than the class's dataset (60 chunks, not 12): the push must still be under way when the broker goes.
        using var shards = FashionMnistShardSet.Create(samples: 10_000, shardSizeBytes: 1L << 20, bitsPerPixel: 8);
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var devices = new List<FleetDevice>();
        for (var i = 0; i < DeviceCount; i++)
        {
            devices.Add(await bed.StartDeviceAsync($"pi-{i:D2}"));
        }

        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Count(d => d.Online) == DeviceCount,
            TransferTimeout, () => "devices online");

        var push = bed.PublishAsync("fmnist", shards.Directory);

        // Kill the broker once chunks are flowing, not before the manifest is out.
        await FleetBed.WaitUntilAsync(
            () => Task.FromResult(push.IsCompleted || devices.Any(d => Directory.Exists(Path.Combine(d.Options.DataDirectory, "datasets", "fmnist")))),
            TransferTimeout, () => "the first chunks");
        Assert.False(push.IsCompleted, "the push finished before the broker could be restarted; make the dataset larger");
        await bed.Broker.RestartAsync(TimeSpan.FromMilliseconds(500));
        output.WriteLine("broker restarted");

        var result = await push.WaitAsync(TransferTimeout);
        await FleetBed.WaitUntilAsync(
            () => Task.FromResult(devices.All(d => d.HasStored("fmnist", result.Version))), TimeSpan.FromSeconds(90),
            () => $"devices without the dataset: {string.Join(", ", devices.Where(d => !d.HasStored("fmnist", result.Version)).Select(d => d.Id))}");
        foreach (var device in devices)
        {
            Assert.Empty(FleetBed.Differences(device, "fmnist", shards.Files));
        }
    }
}
