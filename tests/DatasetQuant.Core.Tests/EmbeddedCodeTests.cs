using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class EmbeddedCodeTests
{
    private static QuantizeResult QuantizeEmbedded(string directory, int count, string budget) =>
        DatasetQuantizer.Quantize(Samples.FashionMnistTest.Take(count), new QuantizeOptions
        {
            Budget = Budget.Parse(budget),
            OutputDirectory = directory,
            ShardPrefix = "test",
            EmbeddedCodes = true,
        });

    [Fact]
    public void Every_stored_width_is_the_top_bits_of_the_samples_8_bit_code_with_that_widths_own_reconstruction()
    {
        using var dir = new TempDirectory();
        var dataset = Samples.FashionMnistTest.Take(300);
        var result = QuantizeEmbedded(dir.Path, 300, "2bpp");
        // The grids are the quantizer's own (the table is deterministic per sample), kept on the coordinator only.
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), PixelMseDistortion.Instance, 6, 1, null, default, embeddedCodes: true);
        using var set = DqsShardSet.Open(result.ShardPaths);
        var mean = set.Header.ChannelMean.ToArray();
        var pixels = new float[784];
        var codes8 = new byte[784];
        var stored = new byte[784];
        var widths = new HashSet<int>();
        var refitted = 0;
        var kept = 0;
        // The shards number samples by their first increment (SampleNumbering); SampleOrder maps them to the input.
        Assert.NotNull(result.SampleOrder);
        for (var k = 0; k < 300; k++)
        {
            var source = result.SampleOrder[k];
            if (result.Bits[source] == 0)
            {
                continue;
            }

            var (shard, sample) = set.Locate(kept++);
            var record = shard.Record(sample);
            shard.ReadCodes(sample, stored);
            dataset.ReadPixels(source, pixels);
            SampleQuantizer.Quantize(pixels, mean, 784, 8, table.Grids[source], codes8);
            Assert.Equal(codes8.Select(c => (byte)(c >> (SampleQuantizer.MaxBits - record.Bits))), stored.Take(784));
            Assert.Equal(table.Parameters[(source * SampleQuantizer.WidthCount) + record.Bits], record.Parameters);
            refitted += record.Scale != EmbeddedCode.ScaleAt(table.Grids[source].Scale, record.Bits) ? 1 : 0;
            widths.Add(record.Bits);
        }

        Assert.True(widths.Count >= 3, $"widths {string.Join(',', widths)}: the check should cover several");
        Assert.True(refitted * 4 > kept, $"{refitted} of {kept} records reconstruct other than the grid: the refit should matter to many");
    }

    [Fact]
    public void At_2_bpp_the_embedded_codes_cost_less_than_a_fifth_more_than_codes_refitted_per_width()
    {
        var dataset = Samples.FashionMnistTest.Take(2000);
        var statistics = ChannelStatistics.Compute(dataset);
        var budget = Budget.FromBitsPerPixel(2).PayloadBytes(2000, 784);
        double Mse(bool embedded)
        {
            var table = DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embedded);
            var bits = new byte[2000];
            new AdaptiveAllocator().Allocate(new AllocationProblem(2000, 784, budget) { Distortion = table.Distortion }, bits);
            return table.MeanSquaredError(bits);
        }

        var (refit, embed) = (Mse(false), Mse(true));
        Assert.True(embed < refit * 1.2, $"embedded {embed:F2}, refitted {refit:F2} ({embed / refit:F3}x)");
        Assert.True(embed >= refit, $"embedded {embed:F2} below refitted {refit:F2}: nested thresholds cannot beat free ones");
    }

    [Fact]
    public void The_order_is_written_beside_the_shards_and_its_prefixes_are_nested_allocations_within_budget()
    {
        using var dir = new TempDirectory();
        QuantizeEmbedded(dir.Path, 500, "1bpp");
        var order = IncrementOrder.Read(Path.Combine(dir.Path, "test.dqo"));
        Assert.Equal(500, order.SampleCount);
        long BytesAt(int b) => SampleQuantizer.PackedBytes(784, b);
        var all = new byte[500];
        order.WidthsAfter(order.Increments.Count, all);
        // The whole order keeps every sample; a width that lowers no distortion (its codes clamp alike) is not on the hull.
        Assert.All(all, b => Assert.InRange(b, 1, 8));
        Assert.True(all.Count(b => b == 8) > 450, $"{all.Count(b => b == 8)} of 500 samples end at 8 bits");

        var previous = new byte[500];
        foreach (var bpp in new[] { 0.25, 0.5, 1, 2, 4 })
        {
            var budget = Budget.FromBitsPerPixel(bpp).PayloadBytes(500, 784);
            var widths = new byte[500];
            order.WidthsWithin(budget, BytesAt, widths);
            var spent = widths.Sum(b => BytesAt(b));
            Assert.InRange(spent, budget - (BytesAt(8) * 2), budget);
            Assert.All(Enumerable.Range(0, 500), i => Assert.True(widths[i] >= previous[i], $"sample {i} lost bits as the budget rose to {bpp} bpp"));
            widths.CopyTo(previous, 0);
        }
    }

    [Fact]
    public void An_order_prefix_costs_no_more_than_the_adaptive_allocation_without_coverage()
    {
        var dataset = Samples.FashionMnistTest.Take(400);
        var statistics = ChannelStatistics.Compute(dataset);
        var table = DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embeddedCodes: true);
        var order = AdaptiveAllocator.Order(new AllocationProblem(400, 784, 0) { Distortion = table.Distortion });
        foreach (var bpp in new[] { 0.5, 1.5, 3 })
        {
            var budget = Budget.FromBitsPerPixel(bpp).PayloadBytes(400, 784);
            var greedy = new byte[400];
            new AdaptiveAllocator().Allocate(new AllocationProblem(400, 784, budget) { Distortion = table.Distortion }, greedy);
            var prefix = new byte[400];
            order.WidthsWithin(budget, b => SampleQuantizer.PackedBytes(784, b), prefix);
            // The greedy may fill the tail with cheaper segments after the first that does not fit; nothing else differs.
            Assert.InRange(table.MeanSquaredError(prefix), table.MeanSquaredError(greedy) * 0.999, table.MeanSquaredError(greedy) * 1.01);
        }
    }

    [Fact]
    public void A_damaged_or_newer_order_file_is_refused_naming_the_file_and_field()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "x.dqo");
        new IncrementOrder(3, 784, [new(0, 1), new(2, 1), new(0, 3)]).Write(path);
        Assert.Equal(3, IncrementOrder.Read(path).Increments.Count);
        var bytes = File.ReadAllBytes(path);

        var flipped = (byte[])bytes.Clone();
        flipped[22] ^= 1;
        File.WriteAllBytes(path, flipped);
        var damaged = Assert.Throws<DqsFormatException>(() => IncrementOrder.Read(path));
        Assert.Contains("x.dqo", damaged.Message, StringComparison.Ordinal);
        Assert.Equal("checksum", damaged.Field);

        var newer = (byte[])bytes.Clone();
        newer[4] = 2;
        File.WriteAllBytes(path, newer);
        Assert.Equal("versionMajor", Assert.Throws<DqsFormatException>(() => IncrementOrder.Read(path)).Field);

        File.WriteAllBytes(path, bytes.AsSpan(0, bytes.Length - 3).ToArray());
        Assert.Throws<DqsFormatException>(() => IncrementOrder.Read(path));

        Assert.Throws<ArgumentException>(() => new IncrementOrder(3, 784, [new(0, 2), new(0, 1)]));
    }
}
