using System.Security.Cryptography;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>Prefixes of layers served whole: what the coordinator writes, and which one a device takes.</summary>
public sealed class LayerPrefixesTests
{
    private const int Count = 600;

    [Theory]
    [InlineData(false)]
    // Three channels (a channel table of three entries in every layer) and 300 classes (labels of two bytes).
    [InlineData(true)]
    public void A_prefix_is_byte_for_byte_what_a_device_holds_after_taking_its_layers_one_at_a_time(bool colour)
    {
        using var dir = new TempDirectory();
        var data = colour ? Samples.ThreeChannels(Samples.FashionMnistTest.Take(Count), classCount: 300) : Samples.FashionMnistTest.Take(Count);
        var full = DatasetQuantizer.Quantize(data, new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = Path.Combine(dir.Path, "full"), ShardPrefix = "test", EmbeddedCodes = true,
        });
        var order = IncrementOrder.Read(Path.Combine(dir.Path, "full", "test.dqo"));
        long[] cuts = [colour ? 120_000 : 40_000, colour ? 450_000 : 150_000, 1L << 40];
        var published = Path.Combine(dir.Path, "layers");
        var layers = LayerBuilder.Build(full.ShardPaths, order, published, "test", minimumBytes: 8 * 1024, cutAtHeldBytes: cuts);
        var counts = LayerPrefixes.CountsAt(layers, cuts);
        Assert.Equal([LayerBuilder.LayersWithin(layers, cuts[0]), LayerBuilder.LayersWithin(layers, cuts[1]), layers.Count], counts);

        var prefixes = LayerPrefixes.Write(layers, counts, published, "test");
        Assert.Equal(counts, prefixes.Select(p => p.Layers));
        Assert.Empty(Directory.GetDirectories(published));

        var device = ProgressiveHoldings.Open(Directory.CreateDirectory(Path.Combine(dir.Path, "device")).FullName, "test");
        foreach (var prefix in prefixes)
        {
            while (device.LayerCount < prefix.Layers)
            {
                var layer = layers[device.LayerCount];
                device.Apply([File.ReadAllBytes(layer.Path)], [layer.Path]);
            }

            Assert.Equal(layers[prefix.Layers - 1].HeldBytesAfter, prefix.Bytes);
            Assert.Equal(Hash(device.ShardPath), Hash(prefix.ShardPath));
            Assert.Equal(Hash(device.HeldPath), Hash(prefix.HeldPath));
            Assert.Equal(Path.Combine(published, $"test-P{prefix.Layers:D5}.dqs"), prefix.ShardPath);
        }

        // Installed in place of the layers, the copy takes the next layer like one built from layers.
        var installed = Directory.CreateDirectory(Path.Combine(dir.Path, "installed")).FullName;
        File.Copy(prefixes[0].ShardPath, Path.Combine(installed, "test.dqs"));
        File.Copy(prefixes[0].HeldPath, Path.Combine(installed, "test.dqh"));
        var copy = ProgressiveHoldings.Open(installed, "test");
        Assert.Equal(prefixes[0].Layers, copy.LayerCount);
        var next = layers[copy.LayerCount];
        copy.Apply([File.ReadAllBytes(next.Path)], [next.Path]);
        Assert.Equal(next.HeldBytesAfter, copy.HeldBytes);
    }

    [Fact]
    public void Cuts_below_the_first_layer_make_no_prefix_equal_counts_make_one_and_prefixes_are_capped_in_number_and_bytes()
    {
        var layers = Enumerable.Range(0, 100).Select(i => new LayerInfo($"l{i}", 1000, i, 1, 20_000 + (i * 1000L))).ToList();

        Assert.Equal([1, 11], LayerPrefixes.CountsAt(layers, [19_999, 20_000, 30_000, 30_500]));
        var many = Enumerable.Range(0, 1000).Select(i => new LayerInfo($"m{i}", 1000, i, 1, 20_000 + (i * 1000L))).ToList();
        Assert.Equal(LayerPrefixes.MaxWrittenPerVersion, LayerPrefixes.CountsAt(many, Enumerable.Range(0, 90).Select(i => 20_000 + (i * 1000L))).Count);
        // Near the full size (119,000 held bytes), four full sizes' worth of prefixes: the smallest that fit.
        var near = LayerPrefixes.CountsAt(layers, Enumerable.Range(0, 10).Select(i => 110_000 + (i * 1000L)));
        Assert.Equal([91, 92, 93, 94], near);
        Assert.True(near.Sum(c => layers[c - 1].HeldBytesAfter) <= LayerPrefixes.MaxBytesInFullSizes * layers[^1].HeldBytesAfter);
    }

    [Theory]
    // Nothing held: the larger prefix saves most (10 layers of 100 for 900 bytes against 5 for 450).
    [InlineData(0, 10, 10)]
    // Held up to 5: the prefix of 10 costs 900 for 500 of layers; none saves.
    [InlineData(5, 10, 0)]
    // A target below a prefix never takes it.
    [InlineData(0, 9, 5)]
    [InlineData(0, 4, 0)]
    // Equal savings (50 each, with the prefix of 10 at 950): the shorter.
    [InlineData(-1, 10, 5)]
    public void A_device_takes_the_prefix_that_saves_the_most_bytes_against_its_layers(int applied, int target, int expected)
    {
        (int, long)[] prefixes = applied < 0 ? [(10, 950), (5, 450)] : [(5, 450), (10, 900)];
        applied = Math.Max(applied, 0);

        Assert.Equal(expected, LayerPrefixes.Choose((from, to) => 100L * (to - from), prefixes, applied, target));
    }

    private static string Hash(string path) => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path)));
}
