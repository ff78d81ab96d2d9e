using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Tests;

public sealed class FleetTransferTests
{
    [Fact]
    public async Task Broadcast_delivers_a_multi_shard_dataset_byte_exact_to_every_device()
    {
        await using var bed = new SyncTestBed();
        // A long quiet period: no device may need a pull on a lossless broker, however slow the machine.
        var devices = Enumerable.Range(0, 5).Select(i => bed.AddDevice($"dev-{i:D2}", o => o.PullQuietPeriod = TimeSpan.FromSeconds(30)).Start()).ToArray();
        var shards = bed.CreateShards("fmnist-v1", 100_000, 16 * 1024, 1, 70_001);
        foreach (var device in devices)
        {
            await device.SubscribedAsync("fmnist");
        }

        await bed.PublishAsync("fmnist", 1, shards);
        var broadcastBytes = bed.Broker.PublishedBytesTo("dq/v1/lab/datasets/#");

        // The coordinator sends the dataset once for the whole fleet: payload + 46-byte frame headers + the manifest.
        const int DatasetBytes = 100_000 + (16 * 1024) + 1 + 70_001;
        Assert.InRange(broadcastBytes, DatasetBytes, DatasetBytes + (14 * 46) + 2048);

        foreach (var device in devices)
        {
            await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), $"{device.Id} to hold fmnist v1", bed.Log);
            device.AssertHoldsExactly("fmnist", shards);
            Assert.Equal(0, device.Engine!.PullsSent);
            Assert.Equal(DatasetBytes, device.Engine.HeldBytes);
        }

        // Retained state documents say so.
        await SyncTestBed.WaitUntilAsync(
            () => devices.All(d => StateOf(bed, d.Id) is { HeldBytes: 186_386, Datasets: [{ Complete: true, ManifestVersion: 1 }] }), "state reports", bed.Log);
    }

    [Fact]
    public async Task A_device_that_connects_late_gets_the_dataset_by_repair()
    {
        await using var bed = new SyncTestBed();
        var shards = bed.CreateShards("v1", 50_000, 33_000);
        await bed.PublishAsync("fmnist", 1, shards);

        var late = bed.AddDevice("late").Start();
        await SyncTestBed.WaitUntilAsync(() => late.Holds("fmnist", 1), "the late device to hold fmnist v1", bed.Log);

        late.AssertHoldsExactly("fmnist", shards);
        Assert.True(late.Engine!.PullsSent >= 1);
        Assert.Equal(4 + 3, bed.Responder.FramesSent); // ceil(50000/16384) + ceil(33000/16384): each chunk sent once
    }

    [Fact]
    public async Task Duplicated_and_reordered_chunks_are_harmless()
    {
        await using var bed = new SyncTestBed();
        var held = new List<MqttMessage>();
        bed.Broker.Deliver = (client, message) =>
        {
            if (client == "shuffled" && message.Topic.EndsWith("/chunks", StringComparison.Ordinal))
            {
                held.Add(message);
                return [];
            }

            return [message];
        };
        var device = bed.AddDevice("shuffled", o => o.PullQuietPeriod = TimeSpan.FromSeconds(30)).Start();
        var shards = bed.CreateShards("v1", 90_000, 40_000);
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);
        bed.Broker.Deliver = null;

        // Every chunk three times, in reverse order, duplicates interleaved.
        var replay = held.AsEnumerable().Reverse().SelectMany(m => new[] { m, m }).Concat(held).ToList();
        foreach (var message in replay)
        {
            bed.Broker.SendTo("shuffled", message);
        }

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the device to hold fmnist v1", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
        Assert.Equal(held.Count, device.Engine!.ChunksStored);
        Assert.Equal(0, device.Engine.PullsSent);
    }

    [Fact]
    public async Task A_device_stopped_mid_transfer_resumes_and_fetches_only_what_it_lacked()
    {
        await using var bed = new SyncTestBed();
        var delivered = 0;
        bed.Broker.Deliver = (client, message) =>
        {
            if (client == "crashy" && message.Topic.EndsWith("/chunks", StringComparison.Ordinal) && Interlocked.Increment(ref delivered) > 9)
            {
                return [];
            }

            return [message];
        };
        var device = bed.AddDevice("crashy").Start();
        var shards = bed.CreateShards("v1", 100_000, 100_000, 30_000); // 7 + 7 + 2 = 16 chunks
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.ChunksStored == 9, "9 chunks on flash", bed.Log);

        await device.StopAsync();
        Assert.True(Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.partial").Length >= 1);
        bed.Broker.Deliver = null;
        var framesBefore = bed.Responder.FramesSent;

        device.Start();
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the restarted device to hold fmnist v1", bed.Log);

        device.AssertHoldsExactly("fmnist", shards);
        Assert.Equal(16 - 9, bed.Responder.FramesSent - framesBefore);
        Assert.Empty(Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.partial"));
        Assert.Empty(Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.chunks"));
    }

    [Fact]
    public async Task A_journal_left_by_a_kill_after_its_shards_rename_is_removed_on_restart()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("killed").Start();
        var shards = bed.CreateShards("v1", 100_000, 30_000);
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the device to hold fmnist v1", bed.Log);
        await device.StopAsync();

        // What a process killed between the rename of part-000.dqs and the deletion of its journal leaves on flash.
        var directory = device.DatasetDirectory("fmnist");
        File.WriteAllBytes(Path.Combine(directory, "part-000.dqs.chunks"), new byte[64]);
        File.WriteAllBytes(Path.Combine(directory, "part-001.dqs.partial"), new byte[30_000]);

        device.Start();
        device.AssertHoldsExactly("fmnist", shards);
    }

    [Fact]
    public async Task A_device_slower_than_the_broadcast_sheds_chunks_and_pulls_them_in_paced_batches()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("slow", o =>
        {
            o.MaxQueuedMessages = 4;
            o.MaxChunksPerPull = 5;
        }).Start();
        var shards = bed.CreateShards("v1", 300_000, 200_000); // 19 + 13 = 32 chunks
        var broadcast = new List<MqttMessage>();
        bed.Broker.Deliver = (client, message) =>
        {
            if (message.Topic.EndsWith("datasets/fmnist/chunks", StringComparison.Ordinal))
            {
                broadcast.Add(message);
                return [];
            }

            return [message];
        };
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);
        bed.Broker.Deliver = null;

        // The whole broadcast lands at once, far faster than chunks are fsynced.
        foreach (var message in broadcast)
        {
            bed.Broker.SendTo("slow", message);
        }

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the slow device to hold fmnist v1", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
        var engine = device.Engine!;
        Assert.True(engine.ChunksShed > 0, "nothing was shed");
        Assert.Equal(32, engine.ChunksStored);
        Assert.Equal(engine.ChunksShed, bed.Responder.FramesSent);
        Assert.True(engine.PullsSent >= (int)Math.Ceiling(engine.ChunksShed / 5.0), $"{engine.PullsSent} pulls for {engine.ChunksShed} chunks");
    }

    [Fact]
    public async Task The_last_will_marks_a_dropped_device_offline()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev-w").Start();
        await SyncTestBed.WaitUntilAsync(() => StateOf(bed, "dev-w")?.Status == DeviceStateMessage.Online, "online state", bed.Log);

        await device.StopAsync();

        Assert.Equal(DeviceStateMessage.Offline, StateOf(bed, "dev-w")?.Status);
    }

    internal static DeviceStateMessage? StateOf(SyncTestBed bed, string device) =>
        bed.Broker.Retained.TryGetValue(bed.Topics.DeviceState(device), out var message)
        && SyncMessageCodec.TryReadDeviceState(message.Payload.Span, out var state, out _) ? state : null;
}
