using System.Security.Cryptography;
using System.Text;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Tests;

public sealed class MalformedInputTests
{
    private static readonly string[] JsonGarbage =
    [
        "",
        "not json at all",
        "{}",
        "null",
        "[]",
        "{\"schema\":1}",
        "{\"schema\":2,\"device\":\"dev\",\"version\":9,\"bytes\":1}",
        "{\"schema\":\"one\"}",
        "{\"schema\":1,\"device\":\"dev\",\"version\":99999999999999999999999,\"bytes\":1}",
        "{\"schema\":1,\"device\":\"../etc\",\"version\":5,\"bytes\":1}",
        "{\"schema\":1,\"device\":\"dev\",\"version\":5,\"bytes\":-1}",
        "{\"schema\":1,\"device\":\"other\",\"version\":5,\"bytes\":1}",
        "{\"schema\":1,\"manifest\":{\"fleet\":\"lab\",\"dataset\":\"fmnist\",\"version\":7,\"chunkSize\":16384,\"shards\":[null]},\"signature\":\"AA==\"}",
        "{\"schema\":1,\"manifest\":{\"fleet\":\"lab\",\"dataset\":\"fmnist\",\"version\":7,\"chunkSize\":16384,\"shards\":[{\"id\":0,\"name\":\"../x\",\"size\":1,\"sha256\":\"00\"}]},\"signature\":\"AA==\"}",
        "{\"schema\":1,\"manifest\":{\"fleet\":\"lab\",\"dataset\":\"fmnist\",\"version\":7,\"chunkSize\":16384,\"shards\":[{\"id\":0,\"name\":\"a.dqs\",\"size\":99999999999999,\"sha256\":\"" + new string('0', 64) + "\"}]},\"signature\":\"AA==\"}",
        "{\"schema\":1,\"manifest\":{\"fleet\":\"lab\",\"dataset\":\"fmnist\",\"version\":7,\"chunkSize\":16384,\"shards\":[{\"id\":0,\"name\":\"a.dqs\",\"size\":10,\"sha256\":\"" + new string('0', 64) + "\"}]},\"signature\":\"" + new string('A', 88) + "\"}",
        new string('[', 200) + new string(']', 200),
        "{\"schema\":1,\"device\":\"dev\",\"version\":5,\"bytes\":1",
        "\uFEFF\u0000\u0001",
    ];

    [Fact]
    public async Task Malformed_input_on_every_device_topic_is_ignored_with_a_log_line_and_changes_nothing()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var v1 = bed.CreateShards("v1", 40_000, 5_000);
        await bed.PublishAsync("fmnist", 1, v1);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "v1", bed.Log);
        var statePath = Path.Combine(device.Options.DataDirectory, "sync-state.json");
        var stateBefore = File.ReadAllBytes(statePath);
        var heldBefore = device.Engine!.HeldBytes;
        var warningsBefore = bed.Log.Count("Warning ");

        var sent = 0;
        foreach (var topic in new[] { bed.Topics.DatasetManifest("fmnist"), bed.Topics.BudgetDesired("dev") })
        {
            foreach (var json in JsonGarbage)
            {
                bed.Broker.SendTo("dev", new MqttMessage(topic, Encoding.UTF8.GetBytes(json)));
                sent++;
            }

            bed.Broker.SendTo("dev", new MqttMessage(topic, RandomNumberGenerator.GetBytes(3000)));
            sent++;
        }

        foreach (var topic in new[] { bed.Topics.DatasetChunks("fmnist"), bed.Topics.DeviceChunks("dev") })
        {
            foreach (var frame in BadFrames())
            {
                bed.Broker.SendTo("dev", new MqttMessage(topic, frame));
                sent++;
            }
        }

        // Each is logged as a warning, the loop keeps running, and nothing on flash or in memory changed.
        await SyncTestBed.WaitUntilAsync(() => bed.Log.Count("Warning ") - warningsBefore >= sent, $"{sent} warnings", bed.Log);
        await Task.Delay(200);
        Assert.True(sent == bed.Log.Count("Warning ") - warningsBefore, bed.Log.Dump());
        Assert.False(bed.Log.Contains("Error "), bed.Log.Dump());
        Assert.False(device.Run!.IsCompleted, device.Run.Exception?.ToString());
        Assert.Equal(stateBefore, File.ReadAllBytes(statePath));
        Assert.Equal(heldBefore, device.Engine.HeldBytes);
        device.AssertHoldsExactly("fmnist", v1);

        // And it still works.
        var v2 = bed.CreateShards("v2", 12_345);
        await bed.PublishAsync("fmnist", 2, v2);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 2), "v2 after the garbage", bed.Log);
        device.AssertHoldsExactly("fmnist", v2);
    }

    [Fact]
    public async Task Malformed_pulls_are_ignored_by_the_repair_responder_with_a_log_line()
    {
        await using var bed = new SyncTestBed();
        await bed.PublishAsync("fmnist", 3, bed.CreateShards("v3", 40_000));
        var pulls = JsonGarbage.Select(j => Encoding.UTF8.GetBytes(j)).Concat(
        [
            RandomNumberGenerator.GetBytes(500),
            Pull("dev", "other", 3, 0, "AQ=="), // names another device than its topic
            Pull("dev", "dev", 3, 0, "////////"), // bits past the last of 3 chunks
            Pull("dev", "dev", 3, 0, "not base64!"),
            Pull("dev", "dev", 3, 9, "AQ=="), // no such shard
            Pull("dev", "dev", 2, 0, "AQ=="), // stale version
            Pull("dev", "dev", 3, 0, Convert.ToBase64String(new byte[4096])), // far longer than 3 chunks need
        ]).ToArray();
        var logged = bed.Log.Count("Ignored");

        foreach (var payload in pulls)
        {
            bed.Broker.SendTo("coordinator", new MqttMessage(bed.Topics.DevicePull("dev"), payload));
        }

        await SyncTestBed.WaitUntilAsync(() => bed.Log.Count("Ignored") - logged >= pulls.Length, $"{pulls.Length} log lines", bed.Log);
        await Task.Delay(100);
        Assert.True(pulls.Length == bed.Log.Count("Ignored") - logged, bed.Log.Dump());
        Assert.Equal(0, bed.Responder.FramesSent);

        // A good pull is still answered.
        bed.Broker.SendTo("coordinator", new MqttMessage(bed.Topics.DevicePull("dev"), Pull("dev", "dev", 3, 0, "BQ==")));
        await SyncTestBed.WaitUntilAsync(() => bed.Responder.FramesSent == 2, "two repair frames", bed.Log);
    }

    private static byte[] Pull(string topicDevice, string device, long version, int shard, string missing)
    {
        _ = topicDevice;
        return Encoding.UTF8.GetBytes(
            $"{{\"schema\":1,\"device\":\"{device}\",\"dataset\":\"fmnist\",\"manifestVersion\":{version},\"shards\":[{{\"id\":{shard},\"missing\":\"{missing}\"}}]}}");
    }

    private static IEnumerable<byte[]> BadFrames()
    {
        var good = ChunkFrameWriter.Create("fmnist", 1, 0, 0, RandomNumberGenerator.GetBytes(16 * 1024), false);
        yield return [];
        yield return good[..20];
        yield return good[..^1];
        yield return [.. good, 0];
        yield return RandomNumberGenerator.GetBytes(good.Length);

        var badMagic = good.ToArray();
        badMagic[0] ^= 1;
        yield return badMagic;

        var badVersion = good.ToArray();
        badVersion[4] = 9;
        yield return badVersion;

        var badHeader = good.ToArray();
        badHeader[17] ^= 1; // shard id changed without fixing the header CRC
        yield return badHeader;

        var lyingLength = good.ToArray();
        lyingLength[22] = 0x7F;
        yield return lyingLength;

        // Valid frames whose place does not fit the manifest (CRCs correct): unknown shard, misaligned, past the end, short.
        yield return ChunkFrameWriter.Create("fmnist", 1, 7, 0, new byte[100], false);
        yield return ChunkFrameWriter.Create("fmnist", 1, 0, 100, new byte[100], false);
        yield return ChunkFrameWriter.Create("fmnist", 1, 1, 16 * 1024 * 4, new byte[100], false);
        yield return ChunkFrameWriter.Create("fmnist", 1, 0, 0, new byte[100], false);
    }
}
