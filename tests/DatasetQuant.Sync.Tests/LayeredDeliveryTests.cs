using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// Protocol version 2 over Debian's mosquitto on loopback: real Fashion-MNIST published with embedded codes as layers,
/// the real coordinator publisher and repair responder, real device engines on their own data directories.
/// </summary>
public sealed class LayeredDeliveryTests(ITestOutputHelper output)
{
    private const int Samples = 2000;

    [Fact]
    public async Task A_device_holds_the_coordinators_shard_at_its_prefix_and_a_rise_pulls_only_the_added_layers_while_a_drop_downloads_nothing()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var budgets = new BudgetPublisher(bed.Coordinator, bed.Topics);
        await budgets.PublishAsync("dev", version: 1, EmbeddedFashionMnist.BudgetBytes(1, Samples));
        var device = await fleet.StartDeviceAsync("dev");
        var manifest = (await bed.PublishAsync("fmnist", 1, source)).Manifest;
        Assert.True(manifest.IsLayered);
        Assert.True(manifest.Shards.Count > 50, $"{manifest.Shards.Count} layers");

        long previousReceived = 0;
        var (previousLayers, previousIncrements) = (0, 0);
        foreach (var (bpp, version) in new[] { (1.0, 1L), (2.0, 2L), (0.5, 3L) })
        {
            var budget = EmbeddedFashionMnist.BudgetBytes(bpp, Samples);
            if (version > 1)
            {
                await budgets.PublishAsync("dev", version, budget);
            }

            var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, budget);
            await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{bpp} bpp: {held} bytes held", bed.Log, 60_000);
            var received = device.Engine!.ChunkBytesReceived - previousReceived;
            var added = manifest.Shards.Skip(previousLayers).Take(Math.Max(0, layers - previousLayers)).Sum(s => s.Size);
            output.WriteLine($"{bpp} bpp: budget {budget}, {layers} layers, holds {held}, received {received} bytes over the broker (added layers: {added} bytes)");

            Assert.True(held <= budget && held > budget * 0.9, $"{held} held for a budget of {budget}");
            // A rise holds the coordinator's shard at the prefix; a drop re-quantizes what was held before it.
            Assert.Equal(layers < previousLayers
                ? EmbeddedFashionMnist.Dropped(source, bed.Root.File($"expected-{version - 1}.dqs"), previousIncrements, increments, bed.Root.File($"expected-{version}.dqs"))
                : EmbeddedFashionMnist.Expected(source, increments, bed.Root.File($"expected-{version}.dqs")), File.ReadAllBytes(HeldShard(device)));
            Assert.True(DqsVerifier.Verify(HeldShard(device)).IsValid);
            if (layers < previousLayers)
            {
                Assert.Equal(0, received);
            }
            else
            {
                // Only the added layers arrive, each once: their bytes plus one frame header (40 bytes and the dataset's name) per chunk.
                var frames = manifest.Shards.Skip(previousLayers).Take(Math.Max(0, layers - previousLayers))
                    .Sum(s => s.Layer!.ChunkCount * (40L + "fmnist".Length));
                Assert.InRange(received, added, added + frames);
                Assert.True(received <= 1.1 * (held - (version == 1 ? 0 : EmbeddedFashionMnist.Prefix(manifest, EmbeddedFashionMnist.BudgetBytes(1, Samples)).HeldBytes)),
                    $"received {received} for {held} held");
            }

            Assert.Empty(Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.dql*"));
            (previousReceived, previousLayers, previousIncrements) = (device.Engine.ChunkBytesReceived, layers, increments);
        }
    }

    [Fact]
    public async Task A_device_whose_flash_is_below_the_full_precision_dataset_takes_it_and_resumes_a_layer_after_a_power_cut()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var fullBytes = new FileInfo(Directory.GetFiles(source, "*.dqs").Single()).Length;
        var quota = fullBytes / 3;
        var device = await fleet.StartDeviceAsync("small", o => o.FlashQuotaBytes = quota);
        var manifest = (await bed.PublishAsync("fmnist", 1, source)).Manifest;
        var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, quota);

        // Cut the power while a layer is being assembled (16 KiB chunks; layers here span several), a third of the way in.
        // The layer may complete between the look and the cut: then cut again in a later one.
        var directory = device.DatasetDirectory("fmnist");
        long receivedBefore = 0;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await SyncTestBed.WaitUntilAsync(
                () => device.Engine!.HeldBytes > quota * (attempt + 1) / 8 && Directory.Exists(directory) && Directory.GetFiles(directory, "*.dql.partial").Length > 0,
                "a layer being assembled", bed.Log, 60_000);
            await device.StopAsync();
            receivedBefore += device.Engine!.ChunkBytesReceived;
            var cut = Directory.GetFiles(directory, "*.dql.partial").Length > 0;
            await fleet.RestartDeviceAsync(device);
            if (cut)
            {
                break;
            }
        }

        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), "the quota's prefix", bed.Log, 60_000);

        Assert.True(bed.Log.Contains("Resuming shard fmnist/fmnist-L"), "the layer being assembled was not resumed");
        var received = receivedBefore + device.Engine!.ChunkBytesReceived;
        output.WriteLine($"quota {quota} (full precision {fullBytes}): {layers} layers, holds {held}, received {received}");
        Assert.True(held <= quota && quota < fullBytes);
        Assert.True(received <= held * 1.1, $"received {received} for {held} held");
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected.dqs")), File.ReadAllBytes(HeldShard(device)));
    }

    [Fact]
    public async Task A_manifest_of_an_unknown_protocol_version_is_refused_with_its_dataset_and_version_and_the_held_copy_is_kept()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), 500);
        var device = await fleet.StartDeviceAsync("dev", o => o.FlashQuotaBytes = 100_000);
        var manifest = (await bed.PublishAsync("fmnist", 1, source)).Manifest;
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "fmnist v1", bed.Log, 60_000);
        var before = File.ReadAllBytes(HeldShard(device));

        var future = new DatasetManifest
        {
            Format = DatasetManifest.LatestFormat + 1, Fleet = manifest.Fleet, Dataset = "fmnist", Version = 2, ChunkSize = manifest.ChunkSize,
            CreatedUnixSeconds = manifest.CreatedUnixSeconds, Shards = manifest.Shards,
        };
        // This build cannot sign a format it does not know; a newer coordinator's signature is some 64 bytes the device never gets to check.
        var signature = bed.Signer.Sign(manifest).Signature;
        await bed.Publisher.PublishManifestAsync(new SignedManifestMessage { Manifest = future, KeyId = bed.Signer.KeyId, Signature = signature });
        await SyncTestBed.WaitUntilAsync(() => bed.Log.Contains($"manifest format {DatasetManifest.LatestFormat + 1} is not supported"), "the refusal", bed.Log);

        var line = bed.Log.Lines.Single(l => l.Contains($"manifest format {DatasetManifest.LatestFormat + 1}", StringComparison.Ordinal));
        Assert.Contains("dataset 'fmnist' version 2", line, StringComparison.Ordinal);
        Assert.Equal(before, File.ReadAllBytes(HeldShard(device)));
        await fleet.RestartDeviceAsync(device);
        await Task.Delay(500);
        Assert.Equal(before, File.ReadAllBytes(HeldShard(device)));
        Assert.Equal(manifest.Shards[ManifestLayer.LayersWithin(manifest, 100_000) - 1].Layer!.HeldBytesAfter, device.Engine!.HeldBytes);
    }

    internal static string HeldShard(TestDevice device) => Path.Combine(device.DatasetDirectory("fmnist"), "fmnist.dqs");
}
