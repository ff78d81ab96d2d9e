using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// Protocol version 5 over Debian's mosquitto on loopback: real Fashion-MNIST quantized as range-coded planes
/// (<c>dq quantize --codes planes</c>), published as layers of plane segments with the copy at one budget served whole;
/// a device holds the published planes cut to its prefix, byte for byte, through a rise and a drop.
/// </summary>
public sealed class PlanesDeliveryTests(ITestOutputHelper output)
{
    private const int Samples = 2000;

    /// <summary>Format 6, and format 5 as a coordinator publishes for a fleet of its devices (held increments version 3).</summary>
    [Theory]
    [InlineData(DatasetManifest.GapHeldFormat, 4)]
    [InlineData(DatasetManifest.PlanesFormat, 3)]
    public async Task A_device_holds_the_published_planes_cut_to_its_prefix_and_rises_pull_only_added_planes_while_a_drop_downloads_nothing(int format, int heldVersion)
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.WritePlanes(bed.Root.File("fmnist-planes"), Samples);
        var budgets = new BudgetPublisher(bed.Coordinator, bed.Topics);
        var first = EmbeddedFashionMnist.BudgetBytes(0.5, Samples);
        await budgets.PublishAsync("dev", version: 1, first);
        var device = await fleet.StartDeviceAsync("dev");
        var manifest = (await bed.PublishAsync("fmnist", 1, source, cutAtHeldBytes: [first], layersFormat: format)).Manifest;
        Assert.Equal(format, manifest.Format);
        Assert.True(manifest.Shards.Count > 20, $"{manifest.Shards.Count} layers");
        Assert.NotEmpty(ManifestPrefix.List(manifest));

        long previousReceived = 0;
        var previousLayers = 0;
        foreach (var (bpp, version) in new[] { (0.5, 1L), (1.0, 2L), (0.25, 3L) })
        {
            var budget = EmbeddedFashionMnist.BudgetBytes(bpp, Samples);
            if (version > 1)
            {
                await budgets.PublishAsync("dev", version, budget);
            }

            var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, budget);
            await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{bpp} bpp: {held} bytes held", bed.Log, 60_000);
            var received = device.Engine!.ChunkBytesReceived - previousReceived;
            output.WriteLine($"{bpp} bpp: budget {budget}, {layers} layers, holds {held}, received {received} bytes over the broker");
            Assert.True(held <= budget && held > budget * 0.9, $"{held} held for a budget of {budget}");
            // Rises append segments and drops cut them: either way the published planes cut to the prefix.
            Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File($"expected-{version}.dqs")), File.ReadAllBytes(HeldShard(device)));
            Assert.True(DqsVerifier.Verify(HeldShard(device)).IsValid);
            Assert.Equal(heldVersion, BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(Path.ChangeExtension(HeldShard(device), ".dqh")).AsSpan(4)));
            if (layers < previousLayers)
            {
                Assert.Equal(0, received);
            }
            else
            {
                // The first budget is served whole (a prefix); the rise pulls the layers it adds, with their frames.
                Assert.True(received <= 1.1 * (held - (version == 1 ? 0 : EmbeddedFashionMnist.Prefix(manifest, first).HeldBytes)), $"received {received} for {held} held");
            }

            Assert.Empty(Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.dql*"));
            (previousReceived, previousLayers) = (device.Engine.ChunkBytesReceived, layers);
        }
    }

    [Fact]
    public void A_planes_set_is_published_in_protocol_version_6_or_5_and_a_fixed_width_set_in_6_or_2_to_4()
    {
        using var root = new TempDirectory("dq-planes-publish");
        var planes = EmbeddedFashionMnist.WritePlanes(root.File("planes"), Samples);
        var embedded = EmbeddedFashionMnist.Write(root.File("embedded"), 200);
        var error = Assert.Throws<ArgumentException>(() => LayeredManifestBuilder.Build("lab", "p", 1, planes, format: DatasetManifest.CompactHeldFormat));
        Assert.Contains("protocol version 5 or 6, not 4", error.Message, StringComparison.Ordinal);
        error = Assert.Throws<ArgumentException>(() => LayeredManifestBuilder.Build("lab", "e", 1, embedded, format: DatasetManifest.PlanesFormat));
        Assert.Contains("fixed-width", error.Message, StringComparison.Ordinal);
        Assert.Equal(DatasetManifest.GapHeldFormat, LayeredManifestBuilder.Build("lab", "e", 1, embedded).Format);
        Assert.Equal(DatasetManifest.GapHeldFormat, LayeredManifestBuilder.Build("lab", "p", 1, planes).Format);
        Assert.Equal(DatasetManifest.CompactHeldFormat, LayeredManifestBuilder.Build("lab", "e", 2, embedded, format: DatasetManifest.CompactHeldFormat).Format);
    }

    private static string HeldShard(TestDevice device) => Path.Combine(device.DatasetDirectory("fmnist"), "fmnist.dqs");
}
