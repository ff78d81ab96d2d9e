using System.Diagnostics;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests;

/// <summary>The protocol over Debian's mosquitto on loopback and the MQTTnet client.</summary>
public sealed class RealBrokerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task One_publisher_and_four_devices_over_mosquitto_get_the_dataset_and_a_late_device_is_repaired()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        var coordinator = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        await using var bed = new SyncTestBed(coordinatorConnection: coordinator);
        var devices = new List<TestDevice>();
        for (var i = 0; i < 4; i++)
        {
            var device = bed.AddDevice($"pi-{i}");
            device.Start(await ConnectAsync(factory, broker, device.Options));
            devices.Add(device);
        }

        await Task.Delay(500); // let the devices subscribe; one that is late pulls what it missed, which the test tolerates
        var shards = bed.CreateShards("v1", 1_000_000, 700_000, 300_001);
        var watch = Stopwatch.StartNew();
        await bed.PublishAsync("fmnist", 1, shards);
        foreach (var device in devices)
        {
            await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), $"{device.Id} to hold fmnist v1", bed.Log, timeoutMs: 60_000);
            device.AssertHoldsExactly("fmnist", shards);
        }

        var pushSeconds = watch.Elapsed.TotalSeconds;
        output.WriteLine($"push of 2,000,001 bytes to 4 devices: {pushSeconds:F2} s, {2.0 / pushSeconds:F1} MB/s per device");

        var framesBefore = bed.Responder.FramesSent;
        var late = bed.AddDevice("pi-late");
        watch.Restart();
        late.Start(await ConnectAsync(factory, broker, late.Options));
        await SyncTestBed.WaitUntilAsync(() => late.Holds("fmnist", 1), "the late device", bed.Log, timeoutMs: 60_000);
        late.AssertHoldsExactly("fmnist", shards);
        output.WriteLine($"late device repaired in {watch.Elapsed.TotalSeconds:F2} s (pull quiet period {late.Options.PullQuietPeriod.TotalSeconds} s)");
        // The responder counts an answer once its last frame is acknowledged, which can be after the device has
        // assembled the shards: wait for the count, then check every 16 KiB chunk went exactly once.
        const int chunks = 62 + 43 + 19;
        await SyncTestBed.WaitUntilAsync(() => bed.Responder.FramesSent - framesBefore >= chunks, "the repair answer to be counted", bed.Log, timeoutMs: 10_000);
        Assert.Equal(chunks, bed.Responder.FramesSent - framesBefore);
    }

    private static async Task<IMqttConnection> ConnectAsync(IMqttConnectionFactory factory, MosquittoBroker broker, DeviceSyncOptions options)
    {
        options.BrokerUrl = broker.Url;
        return await factory.ConnectAsync(options.ToConnectionOptions(DeviceSyncEngine.CreateWill(options)));
    }
}
