using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// What a coordinator publishes as layers: the first Fashion-MNIST test images quantized by <c>dq quantize --codes
/// embedded</c> at 8 bpp (shard and increment order), and what a device must hold at a prefix of their layers.
/// </summary>
internal static class EmbeddedFashionMnist
{
    private static readonly Lazy<ImageDataset> Test = new(() => IdxReader.Read(
        TestData.FashionMnist("t10k-images-idx3-ubyte.gz"), TestData.FashionMnist("t10k-labels-idx1-ubyte.gz"), "fashion-mnist-test"));

    public static string Write(string directory, int samples)
    {
        DatasetQuantizer.Quantize(Test.Value.Take(samples), new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = directory, ShardPrefix = "fmnist", EmbeddedCodes = true,
        });
        return directory;
    }

    /// <summary>The first <paramref name="samples"/> test images as range-coded planes at full precision with their order (protocol version 5's sets).</summary>
    public static string WritePlanes(string directory, int samples)
    {
        DatasetQuantizer.Quantize(Test.Value.Take(samples), new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = directory, ShardPrefix = "fmnist", PlaneCodes = true,
        });
        return directory;
    }

    /// <summary>A budget of <paramref name="bitsPerPixel"/>: that payload plus a 16-byte index record per sample and the header.</summary>
    public static long BudgetBytes(double bitsPerPixel, int samples) => Budget.FromBitsPerPixel(bitsPerPixel).PayloadBytes(samples, 784) + (16L * samples) + 128;

    /// <summary>Layers a device holds at <paramref name="budget"/> bytes, and the increments they carry.</summary>
    public static (int Layers, int Increments, long HeldBytes) Prefix(DatasetManifest manifest, long budget)
    {
        var layers = ManifestLayer.LayersWithin(manifest, budget);
        var increments = manifest.Shards.Take(layers).Sum(s => s.Layer!.IncrementCount);
        return (layers, increments, layers == 0 ? 0 : manifest.Shards[layers - 1].Layer!.HeldBytesAfter);
    }

    /// <summary>The coordinator's own full-precision shard re-quantized to the widths of the order's first <paramref name="increments"/>.</summary>
    public static byte[] Expected(string directory, int increments, string scratchPath)
    {
        var order = IncrementOrder.Read(Path.Combine(directory, "fmnist.dqo"));
        var widths = new byte[order.SampleCount];
        order.WidthsAfter(increments, widths);
        using (var shard = DqsReader.Open(Directory.GetFiles(directory, "*.dqs").Single()))
        {
            DqsShardRewriter.Write(shard, widths, scratchPath);
        }

        return File.ReadAllBytes(scratchPath);
    }

    /// <summary>
    /// What a device holds after dropping from the order's first <paramref name="heldIncrements"/> to its first
    /// <paramref name="increments"/>: <paramref name="heldPath"/> (the copy it held then) re-quantized to the lower widths.
    /// </summary>
    public static byte[] Dropped(string directory, string heldPath, int heldIncrements, int increments, string scratchPath)
    {
        var order = IncrementOrder.Read(Path.Combine(directory, "fmnist.dqo"));
        var (before, after) = (new byte[order.SampleCount], new byte[order.SampleCount]);
        order.WidthsAfter(heldIncrements, before);
        order.WidthsAfter(increments, after);
        var kept = Enumerable.Range(0, order.SampleCount).Where(i => before[i] > 0).Select(i => after[i]).ToArray();
        using (var shard = DqsReader.Open(heldPath))
        {
            DqsShardRewriter.Write(shard, kept, scratchPath);
        }

        return File.ReadAllBytes(scratchPath);
    }
}
