using System.Text;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests;

public sealed class RejectionTests
{
    [Fact]
    public async Task A_chunk_damaged_in_transit_is_rejected_by_CRC_and_fetched_again()
    {
        await using var bed = new SyncTestBed();
        var damaged = 0;
        bed.Broker.Deliver = (client, message) =>
        {
            if (client == "dev" && message.Topic.EndsWith("datasets/fmnist/chunks", StringComparison.Ordinal) && Interlocked.Increment(ref damaged) == 2)
            {
                var bytes = message.Payload.ToArray();
                bytes[^100] ^= 0x40;
                return [message with { Payload = bytes }];
            }

            return [message];
        };

        // Quiet long enough that the only pull is the one for the damaged chunk, however slow the machine.
        var device = bed.AddDevice("dev", o => o.PullQuietPeriod = TimeSpan.FromSeconds(2)).Start();
        var shards = bed.CreateShards("v1", 60_000, 20_000);
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the device to hold fmnist v1", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
        Assert.Equal(1, bed.Log.Count("Rejected chunk on dq/v1/lab/datasets/fmnist/chunks: ChunkFrame: field 'payloadCrc'"));
        Assert.Equal(1, bed.Responder.FramesSent);
    }

    [Fact]
    public async Task A_forged_chunk_with_a_valid_CRC_fails_the_SHA256_check_and_is_never_stored()
    {
        await using var bed = new SyncTestBed();
        var forged = false;
        bed.Broker.Deliver = (client, message) =>
        {
            if (client == "dev" && !forged && message.Topic.EndsWith("datasets/fmnist/chunks", StringComparison.Ordinal)
                && ChunkFrameReader.TryRead(message.Payload, out var header, out var payload, out _) && header.ShardId == 1)
            {
                forged = true;
                var evil = payload.ToArray();
                evil[0] ^= 0xFF;
                return [message with { Payload = ChunkFrameWriter.Create(header.Dataset, header.ManifestVersion, header.ShardId, header.Offset, evil, false) }];
            }

            return [message];
        };
        var device = bed.AddDevice("dev").Start();
        var shards = bed.CreateShards("v1", 30_000, 30_000);
        var shardPath = Path.Combine(device.DatasetDirectory("fmnist"), "part-001.dqs");
        var sawBadFile = false;
        // Timer.Dispose does not wait for a callback in flight, which may then find the test's folder gone: an
        // IOException there ends that look, it must not crash the test host.
        using var watch = new Timer(_ =>
        {
            try
            {
                sawBadFile |= File.Exists(shardPath) && !File.ReadAllBytes(shardPath).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(shards, "part-001.dqs")));
            }
            catch (IOException)
            {
            }
        }, null, 0, 5);
        await device.SubscribedAsync("fmnist");
        await bed.PublishAsync("fmnist", 1, shards);

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the device to hold fmnist v1", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
        Assert.True(forged);
        Assert.False(sawBadFile);
        Assert.True(bed.Log.Contains("Rejected shard fmnist/part-001.dqs of version 1: SHA-256"), bed.Log.Dump());
    }

    [Fact]
    public async Task A_tampered_manifest_is_rejected_and_nothing_is_stored()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var shards = bed.CreateShards("v1", 20_000);
        var signed = bed.Signer.Sign(ShardDirectoryManifest(bed, shards, 1));
        var tampered = new SignedManifestMessage
        {
            Manifest = Clone(signed.Manifest, shardSize: signed.Manifest.Shards[0].Size + 1),
            KeyId = signed.KeyId,
            Signature = signed.Signature,
        };

        await PublishManifestAsync(bed, tampered);

        await SyncTestBed.WaitUntilAsync(() => bed.Log.Contains("Rejected manifest on dq/v1/lab/datasets/fmnist/manifest, version 1: field 'signature': signature does not match the manifest"), "the rejection", bed.Log);
        AssertNothingStored(device);
    }

    [Fact]
    public async Task A_manifest_signed_by_another_key_is_rejected_and_nothing_is_stored()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var shards = bed.CreateShards("v1", 20_000);
        using var otherKey = SigningKeyPem.Generate();
        using var impostor = new ManifestSigner(otherKey);

        await PublishManifestAsync(bed, impostor.Sign(ShardDirectoryManifest(bed, shards, 1)));

        await SyncTestBed.WaitUntilAsync(() => bed.Log.Contains("does not verify with the pinned key"), "the rejection", bed.Log);
        AssertNothingStored(device);
    }

    [Fact]
    public async Task A_manifest_version_lower_than_the_one_held_is_rejected()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var v1 = bed.CreateShards("v1", 20_000);
        var v2 = bed.CreateShards("v2", 25_000, 10_000);
        await bed.PublishAsync("fmnist", 2, v2);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 2), "v2", bed.Log);
        var stateBefore = File.ReadAllBytes(Path.Combine(device.Options.DataDirectory, "sync-state.json"));

        await PublishManifestAsync(bed, bed.Signer.Sign(ShardDirectoryManifest(bed, v1, 1)));

        await SyncTestBed.WaitUntilAsync(
            () => bed.Log.Contains("Rejected manifest on dq/v1/lab/datasets/fmnist/manifest: field 'manifest.version' is 1, lower than the version 2 held; nothing stored"), "the rejection", bed.Log);
        device.AssertHoldsExactly("fmnist", v2);
        Assert.Equal(stateBefore, File.ReadAllBytes(Path.Combine(device.Options.DataDirectory, "sync-state.json")));
    }

    [Fact]
    public async Task A_newer_version_keeps_unchanged_shards_and_fetches_only_the_changed_ones()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var v1 = bed.CreateShards("v1", 40_000, 40_000);
        await bed.PublishAsync("fmnist", 1, v1);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "v1", bed.Log);
        var stored = device.Engine!.ChunksStored;

        var v2 = bed.CreateShards("v2", 1);
        File.Copy(Path.Combine(v1, "part-000.dqs"), Path.Combine(v2, "part-000.dqs"), overwrite: true);
        File.WriteAllBytes(Path.Combine(v2, "part-001.dqs"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(20_000));
        await bed.PublishAsync("fmnist", 2, v2);

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 2), "v2", bed.Log);
        device.AssertHoldsExactly("fmnist", v2);
        Assert.Equal(2, device.Engine.ChunksStored - stored); // 20,000 bytes = 2 chunks; part-000 was kept
    }

    internal static DatasetManifest ShardDirectoryManifest(SyncTestBed bed, string shards, long version) =>
        Coordinator.ShardDirectoryManifestBuilder.Build(SyncTestBed.Fleet, "fmnist", version, shards, new OpaqueShardDescriber(), SyncTestBed.ChunkSize);

    internal static async Task PublishManifestAsync(SyncTestBed bed, SignedManifestMessage signed) =>
        await bed.Coordinator.PublishAsync(new MqttMessage(bed.Topics.DatasetManifest("fmnist"), SyncMessageCodec.Serialize(signed), MqttQos.AtLeastOnce, Retain: true));

    private static void AssertNothingStored(TestDevice device)
    {
        var directory = device.DatasetDirectory("fmnist");
        Assert.False(Directory.Exists(directory) && Directory.EnumerateFiles(directory).Any(), "files were stored for a rejected manifest");
        Assert.Equal(0, device.Engine!.HeldBytes);
        var state = Path.Combine(device.Options.DataDirectory, "sync-state.json");
        Assert.False(File.Exists(state) && File.ReadAllText(state, Encoding.UTF8).Contains("fmnist", StringComparison.Ordinal));
    }

    private static DatasetManifest Clone(DatasetManifest m, long shardSize) => new()
    {
        Fleet = m.Fleet,
        Dataset = m.Dataset,
        Version = m.Version,
        ChunkSize = m.ChunkSize,
        CreatedUnixSeconds = m.CreatedUnixSeconds,
        Shards = [.. m.Shards.Select((s, i) => new ManifestShard
        {
            Id = s.Id, Name = s.Name, Size = i == 0 ? shardSize : s.Size, Sha256 = s.Sha256, BitBudget = s.BitBudget, BitsPerPixel = s.BitsPerPixel, SampleCount = s.SampleCount,
        })],
    };
}
