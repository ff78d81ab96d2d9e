using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests.Planes;

/// <summary>
/// A planes set through layers (versions 5 and 4): a device applying layers 0..k−1 holds the published shard with each
/// sample's planes cut to the order's prefix, byte for byte, at the held size the layer lists; dropping layers cuts the
/// planes again locally, and a rise appends them.
/// </summary>
public sealed class PlaneLayerTests : IDisposable
{
    private const int Count = 400;

    private readonly TempDirectory _dir = new("dq-plane-layers");

    public void Dispose() => _dir.Dispose();

    private (QuantizeResult Full, IncrementOrder Order, IReadOnlyList<LayerInfo> Layers) Publish(IEnumerable<long>? cuts = null, int version = LayerFile.DirectoryPlanesVersion)
    {
        var full = PlaneShardTests.Quantize(Samples.FashionMnistTest.Take(Count), _dir.File("full"), "8bpp");
        Assert.All(full.Bits, k => Assert.True(k > 0)); // every sample kept, at the planes the greedy's hull reaches (8, or 7 where an 8th lowers nothing)
        var order = IncrementOrder.Read(_dir.File("full/p.dqo"));
        var layers = LayerBuilder.Build(full.ShardPaths, order, _dir.File("layers"), "p", minimumBytes: 4096, growth: 0.1, cutAtHeldBytes: cuts, planesVersion: version);
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

    [Theory]
    [InlineData(LayerFile.DirectoryPlanesVersion)]
    [InlineData(LayerFile.PlanesVersion)]
    public void A_device_holds_the_published_planes_cut_to_its_prefix_through_rises_and_drops(int version)
    {
        var (full, order, layers) = Publish(version: version);
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
        Assert.Equal(LayerFile.DirectoryPlanesVersion, second.Header.VersionMajor);
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

    [Fact]
    public void Version_5_writes_a_directory_of_Rice_codes_then_the_entries_bytes_as_format_md_says()
    {
        var header = new LayerHeader(1, 2, 2, 10, 5, 3, 5, 2, [0f], [1f]);
        LayerIncrement[] increments =
        [
            new(4, 2, 4, 0, 0f, 0, new byte[] { 0x11, 0x22, 0x33, 0x44 }) { SegmentLengths = [1, 3] },
            new(1, 0, 1, 3, 0f, 0, new byte[] { 0xAA, 0xBB }) { SegmentLengths = [2], Grid = new PlaneGrid(100, 7) },
        ];
        var bytes = LayerFile.Encode(header, increments, LayerFile.DirectoryPlanesVersion);

        // §13 version 5: by sample, gaps 1 and 3 and lengths 2, 1, 3 take fewest bits with parameters 1 and 1; LSB first:
        // sample 1 gap 0 1, from 000, one plane 0, length 10 0; sample 4 gap 10 1, from 010, two planes 10, lengths 0 1
        // and 10 1; then sample 1's label, grid and segment, and sample 4's segments.
        byte[] entries = [1, 1, 0x42, 0xAA, 0x2C, 3, 100, 7, 0xAA, 0xBB, 0x11, 0x22, 0x33, 0x44];
        Assert.Equal("DQL5"u8.ToArray(), bytes[..4]);
        Assert.Equal(entries, bytes[(36 + 8)..^4]);
        var (read, parsed) = LayerFile.Decode(bytes, "L3");
        Assert.Equal(LayerFile.DirectoryPlanesVersion, read.VersionMajor);
        Assert.Equal([(1, 0, 1, 3, 100, 2), (4, 2, 4, 0, 0, 2)], parsed.Select(i => (i.Sample, (int)i.From, (int)i.To, i.Label, (int)i.Grid.Threshold, i.SegmentLengths!.Length == 1 ? i.SegmentLengths[0] : i.SegmentLengths.Length)));
        Assert.Equal(new byte[] { 0x11, 0x22, 0x33, 0x44 }, parsed[1].Planes.ToArray());

        // A directory bit set past its end, a parameter out of range, a gap past the samples: each refused by its field.
        var padded = (byte[])bytes.Clone();
        padded[36 + 8 + 4] |= 0x80;
        Reseal(padded);
        Assert.Equal("increments", Assert.Throws<DqsFormatException>(() => LayerFile.Decode(padded, "L3")).Field);
        var parameter = (byte[])bytes.Clone();
        parameter[36 + 8] = 16;
        Reseal(parameter);
        Assert.Equal("parameters", Assert.Throws<DqsFormatException>(() => LayerFile.Decode(parameter, "L3")).Field);
        var gap = (byte[])bytes.Clone();
        gap[36 + 8 + 3] |= 0x04; // sample 4's gap 3 becomes 1110…: past the 5 samples
        Reseal(gap);
        Assert.Equal("increments", Assert.Throws<DqsFormatException>(() => LayerFile.Decode(gap, "L3")).Field);
    }

    private static void Reseal(byte[] bytes) =>
        BitConverter.TryWriteBytes(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
}
