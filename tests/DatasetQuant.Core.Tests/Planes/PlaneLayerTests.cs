using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests.Planes;

/// <summary>
/// A planes set through layers (version 4): a device applying layers 0..k−1 holds the published shard with each
/// sample's planes cut to the order's prefix, byte for byte, at the held size the layer lists; dropping layers cuts the
/// planes again locally, and a rise appends them.
/// </summary>
public sealed class PlaneLayerTests : IDisposable
{
    private const int Count = 400;

    private readonly TempDirectory _dir = new("dq-plane-layers");

    public void Dispose() => _dir.Dispose();

    private (QuantizeResult Full, IncrementOrder Order, IReadOnlyList<LayerInfo> Layers) Publish(IEnumerable<long>? cuts = null)
    {
        var full = PlaneShardTests.Quantize(Samples.FashionMnistTest.Take(Count), _dir.File("full"), "8bpp");
        Assert.All(full.Bits, k => Assert.True(k > 0)); // every sample kept, at the planes the greedy's hull reaches (8, or 7 where an 8th lowers nothing)
        var order = IncrementOrder.Read(_dir.File("full/p.dqo"));
        var layers = LayerBuilder.Build(full.ShardPaths, order, _dir.File("layers"), "p", minimumBytes: 4096, growth: 0.1, cutAtHeldBytes: cuts);
        return (full, order, layers);
    }

    /// <summary>The published shard with its samples' planes cut to the order's first <paramref name="increments"/>.</summary>
    private byte[] Expected(QuantizeResult full, IncrementOrder order, int increments)
    {
        var widths = new byte[Count];
        order.WidthsAfter(increments, widths);
        var path = _dir.File($"expected-{increments}.dqs");
        using (var shard = DqsReader.Open(full.ShardPaths.Single()))
        {
            DqsShardRewriter.Write(shard, widths, path);
        }

        return File.ReadAllBytes(path);
    }

    private static void Receive(ProgressiveHoldings device, IReadOnlyList<LayerInfo> layers, int from, int to)
    {
        var chosen = layers.Skip(from).Take(to - from).ToList();
        device.Apply([.. chosen.Select(l => File.ReadAllBytes(l.Path))], [.. chosen.Select(l => l.Path)]);
    }

    [Fact]
    public void A_device_holds_the_published_planes_cut_to_its_prefix_through_rises_and_drops()
    {
        var (full, order, layers) = Publish();
        Assert.True(layers.Count > 10, $"{layers.Count} layers");
        var device = ProgressiveHoldings.Open(_dir.File("device"), "p");
        Directory.CreateDirectory(device.Directory);
        var steps = new[] { 1, layers.Count / 3, layers.Count / 5, layers.Count, 2 };
        var held = 0;
        foreach (var target in steps)
        {
            if (target > held)
            {
                Receive(device, layers, held, target);
            }
            else
            {
                device.TruncateTo(target);
            }

            held = target;
            var increments = layers[held - 1].FirstIncrement + layers[held - 1].IncrementCount;
            Assert.Equal(Expected(full, order, increments), File.ReadAllBytes(device.ShardPath));
            Assert.Equal(layers[held - 1].HeldBytesAfter, device.HeldBytes);
            Assert.Equal(held, ProgressiveHoldings.Open(device.Directory, "p").LayerCount);
        }
    }

    [Fact]
    public void Layers_end_at_the_held_sizes_they_are_cut_at()
    {
        var (_, _, plain) = Publish();
        var cut = plain[plain.Count / 2].HeldBytesAfter - 777;
        Directory.Delete(_dir.File("layers"), recursive: true);
        var (_, _, layers) = Publish([cut]);
        var within = LayerBuilder.LayersWithin(layers, cut);
        Assert.True(layers[within - 1].HeldBytesAfter <= cut);
        Assert.True(layers[within].HeldBytesAfter > cut);
        // The layer ending at the cut ends before the first increment that would pass it: a small remainder at most.
        Assert.True(cut - layers[within - 1].HeldBytesAfter < 2 * 784, $"{cut - layers[within - 1].HeldBytesAfter} bytes left under the cut");
    }

    [Fact]
    public void Only_the_first_layer_carries_the_model_and_a_damaged_one_is_refused_naming_the_field()
    {
        var (_, _, layers) = Publish();
        var first = LayerFile.Decode(File.ReadAllBytes(layers[0].Path), "L0");
        var second = LayerFile.Decode(File.ReadAllBytes(layers[1].Path), "L1");
        Assert.NotNull(first.Header.Model);
        Assert.Null(second.Header.Model);
        Assert.Equal(LayerFile.PlanesVersion, second.Header.VersionMajor);
        Assert.All(second.Increments, i => Assert.Equal(i.To - i.From, i.SegmentLengths!.Length));

        var bytes = File.ReadAllBytes(layers[0].Path);
        var modelAt = 36 + 8;
        bytes[modelAt] = 0;
        bytes[modelAt + 1] = 0;
        Reseal(bytes);
        Assert.Equal("model[0]", Assert.Throws<DqsFormatException>(() => LayerFile.Decode(bytes, "L0")).Field);

        bytes = File.ReadAllBytes(layers[1].Path);
        Array.Resize(ref bytes, bytes.Length - 9);
        Reseal(bytes);
        Assert.Equal("increments", Assert.Throws<DqsFormatException>(() => LayerFile.Decode(bytes, "L1")).Field);
    }

    private static void Reseal(byte[] bytes) =>
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
}
