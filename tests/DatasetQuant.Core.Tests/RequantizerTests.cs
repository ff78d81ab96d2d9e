using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class RequantizerTests
{
    [Fact]
    public void Requantizing_in_place_meets_the_new_budget_and_only_lowers_widths()
    {
        using var dir = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 400, "4bpp", shardSize: 100 * 1024);
        var before = ReadAll(dir.Path);

        var result = Requantizer.Requantize(original.ShardPaths, Budget.Parse("1.5bpp"), dir.Path);

        Assert.Equal(original.ShardPaths.Order(), result.ShardPaths.Order());
        Assert.Equal(original.ShardPaths.Order(), Directory.GetFiles(dir.Path).Order());
        Assert.True(result.PayloadBytesAfter <= Budget.Parse("1.5bpp").PayloadBytes(400, 784));
        Assert.True(result.PayloadBytesAfter >= Budget.Parse("1.5bpp").PayloadBytes(400, 784) * 0.95);
        Assert.All(DqsVerifier.VerifySet(result.ShardPaths), v => Assert.True(v.IsValid, string.Join("; ", v.Problems)));
        var after = ReadAll(dir.Path);
        Assert.Equal(400, after.Sum(s => s.Header.SourceCount));

        // Each shard's surviving samples are a subsequence of its old ones: same label, codes shifted right, the pair re-quantized.
        foreach (var shard in after)
        {
            var previous = before.Single(s => s.Header.FirstSourceIndex == shard.Header.FirstSourceIndex).Samples;
            var mean = shard.Header.ChannelMean.ToArray();
            var at = 0;
            foreach (var sample in shard.Samples)
            {
                while (at < previous.Count && !Follows(previous[at], sample, mean))
                {
                    at++;
                }

                Assert.True(at < previous.Count, $"a sample of the shard from source {shard.Header.FirstSourceIndex} matches no old sample");
                at++;
            }
        }
    }

    private static bool Follows(StoredSample old, StoredSample now, float[] mean)
    {
        if (old.Label != now.Label || now.Bits > old.Bits)
        {
            return false;
        }

        var shifted = new byte[old.Codes.Length];
        return SampleQuantizer.Requantize(old.Codes, old.Bits, now.Bits, old.Parameters, mean, 784, shifted) == now.Parameters
            && shifted.SequenceEqual(now.Codes);
    }

    [Theory]
    [InlineData(3.4999999999, 3)] // a float32 cast first would make it 3.5 and round it to 4
    [InlineData(3.5, 4)] // halves to even
    [InlineData(2.5, 2)]
    [InlineData(-2.5000000001, -3)]
    public void A_refitted_shift_is_rounded_in_float64_half_to_even(double meanResidual, int shift)
    {
        // Sums whose Σk is 0 make the fitted shift the mean residual itself (n = 1, Σk² = 1, Σk·r = 1: scale 1).
        var pair = ReconstructionFit.FromSums(1, 0, 1, meanResidual, 1);

        Assert.Equal(shift, pair!.Value.Shift);
    }

    [Fact]
    public void The_refitted_pair_errs_no_more_than_the_merged_bins_centre_and_less_in_all()
    {
        using var dir = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 500, "8bpp");
        using var shard = DqsReader.Open(original.ShardPaths[0]);
        var mean = shard.Header.ChannelMean.ToArray();
        var (codes, shifted) = (new byte[784], new byte[784]);
        var (wide, refitted, centred) = (new float[784], new float[784], new float[784]);
        double Error(float[] x) => x.Zip(wide, (a, b) => (double)(a - b) * (a - b)).Sum();
        foreach (var to in new[] { 1, 2, 4, 6 })
        {
            double refitTotal = 0, centreTotal = 0;
            for (var i = 0; i < shard.Count; i++)
            {
                var record = shard.Record(i);
                shard.ReadCodes(i, codes);
                SampleQuantizer.Dequantize(codes, mean, 784, record.Bits, record.Parameters, wide);
                var pair = SampleQuantizer.Requantize(codes, record.Bits, to, record.Parameters, mean, 784, shifted);
                SampleQuantizer.Dequantize(shifted, mean, 784, to, pair, refitted);
                SampleQuantizer.Dequantize(shifted, mean, 784, to, record.Parameters with { Scale = record.Scale * (1 << (record.Bits - to)) }, centred);
                Assert.True(Error(refitted) <= Error(centred), $"sample {i} at {to} bits: refitted {Error(refitted):F1}, merged centre {Error(centred):F1}");
                (refitTotal, centreTotal) = (refitTotal + Error(refitted), centreTotal + Error(centred));
            }

            Assert.True(refitTotal < centreTotal * 0.99, $"{to} bits: refitted {refitTotal / shard.Count / 784:F2}, merged centre {centreTotal / shard.Count / 784:F2}");
        }
    }

    [Fact]
    public void A_shard_rewritten_at_lower_widths_decodes_as_the_codes_shifted_and_refuses_wider_ones()
    {
        using var dir = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 50, "4bpp", allocator: "uniform");
        using var shard = DqsReader.Open(original.ShardPaths[0]);
        var widths = Enumerable.Range(0, shard.Count).Select(i => (byte)(i % 3 == 0 ? 0 : i % 3 == 1 ? 1 : 3)).ToArray();
        var output = Path.Combine(dir.Path, "rewritten.dqs");

        DqsShardRewriter.Write(shard, widths, output);

        using var rewritten = DqsReader.Open(output);
        Assert.Equal(widths.Count(b => b > 0), rewritten.Count);
        Assert.Equal((shard.Header.ShardIndex, shard.Header.FirstSourceIndex, shard.Header.SourceCount),
            (rewritten.Header.ShardIndex, rewritten.Header.FirstSourceIndex, rewritten.Header.SourceCount));
        var codes = new byte[784];
        var expected = new byte[784];
        var kept = 0;
        for (var i = 0; i < shard.Count; i++)
        {
            if (widths[i] == 0)
            {
                continue;
            }

            shard.ReadCodes(i, expected);
            var parameters = SampleQuantizer.Requantize(expected, shard.Bits(i), widths[i], shard.Parameters(i), shard.Header.ChannelMean.ToArray(), 784, expected);
            rewritten.ReadCodes(kept, codes);
            Assert.Equal(expected, codes);
            Assert.Equal((shard.Label(i), (int)widths[i], parameters), (rewritten.Label(kept), rewritten.Bits(kept), rewritten.Parameters(kept)));
            kept++;
        }

        widths[1] = 5;
        Assert.Throws<ArgumentOutOfRangeException>(() => DqsShardRewriter.Write(shard, widths, output));
        Assert.Throws<ArgumentException>(() => DqsShardRewriter.Write(shard, widths.AsSpan(1), output));
        using var unchanged = DqsReader.Open(output);
        Assert.Equal(kept, unchanged.Count);
        Assert.Equal(new[] { original.ShardPaths[0], output }.Order(), Directory.GetFiles(dir.Path).Order());
    }

    [Fact]
    public void A_budget_above_the_current_size_changes_nothing()
    {
        using var dir = new TempDirectory();
        var output = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 100, "2bpp");

        var result = Requantizer.Requantize(original.ShardPaths, Budget.Parse("6bpp"), output.Path);

        Assert.Equal(result.PayloadBytesBefore, result.PayloadBytesAfter);
        Assert.Equal(File.ReadAllBytes(original.ShardPaths[0]), File.ReadAllBytes(result.ShardPaths[0]));
        output.Dispose();
    }

    [Fact]
    public void Dropping_samples_keeps_each_class_its_share()
    {
        using var dir = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 1000, "2bpp", allocator: "uniform");
        var sourceCounts = ReadAll(dir.Path).SelectMany(s => s.Samples).CountBy(s => s.Label).ToDictionary();

        // 0.25 bpp leaves room for a quarter of the samples at 1 bit: three in four must go.
        var result = Requantizer.Requantize(original.ShardPaths, Budget.Parse("0.25bpp"), dir.Path);

        Assert.InRange(result.SamplesAfter, 200, 250);
        var keptCounts = ReadAll(dir.Path).SelectMany(s => s.Samples).CountBy(s => s.Label).ToDictionary();
        foreach (var (label, count) in sourceCounts)
        {
            var share = (double)count * result.SamplesAfter / result.SamplesBefore;
            var kept = keptCounts.GetValueOrDefault(label);
            Assert.True(Math.Abs(kept - share) <= 1, $"class {label}: kept {kept} of {count}, its share is {share:F1}");
        }
    }

    private sealed record StoredSample(int Label, int Bits, QuantizationParameters Parameters, byte[] Codes);

    private sealed record ShardContent(DqsHeader Header, List<StoredSample> Samples);

    private static List<ShardContent> ReadAll(string directory)
    {
        var shards = new List<ShardContent>();
        foreach (var path in Directory.GetFiles(directory, "*.dqs"))
        {
            using var reader = DqsReader.Open(path);
            var samples = new List<StoredSample>();
            for (var i = 0; i < reader.Count; i++)
            {
                var codes = new byte[784];
                reader.ReadCodes(i, codes);
                var record = reader.Record(i);
                samples.Add(new StoredSample(record.Label, record.Bits, record.Parameters, codes));
            }

            shards.Add(new ShardContent(reader.Header, samples));
        }

        return shards;
    }
}
