using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Tests;

public sealed class QuantizerTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(4)]
    [InlineData(8)]
    public void Reconstruction_error_is_at_most_half_a_step_inside_the_range(int bits)
    {
        var dataset = Samples.FashionMnistTest;
        var mean = new[] { 72.9f };
        var pixels = new float[784];
        var codes = new byte[784];
        var restored = new float[784];
        for (var i = 0; i < 50; i++)
        {
            dataset.ReadPixels(i, pixels);
            var scale = SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(pixels, mean, 784), bits);
            SampleQuantizer.Quantize(pixels, mean, 784, bits, new(scale, 0), codes);
            SampleQuantizer.Dequantize(codes, mean, 784, bits, new(scale, 0), restored);

            for (var p = 0; p < 784; p++)
            {
                Assert.InRange(codes[p], 0, (1 << bits) - 1);
                // The top bin is closed on the right, so the largest residual also lands within half a step.
                Assert.True(MathF.Abs(restored[p] - pixels[p]) <= scale / 2 + 1e-3f, $"sample {i} pixel {p}: {pixels[p]} -> {restored[p]} (s = {scale})");
            }
        }
    }

    [Fact]
    public void One_bit_codes_split_at_the_mean()
    {
        var codes = new byte[3];
        SampleQuantizer.Quantize([10f, 100f, 100.5f], [100f], 3, 1, new(50f, 0), codes);

        Assert.Equal(new byte[] { 0, 1, 1 }, codes);
        var restored = new float[3];
        SampleQuantizer.Dequantize(codes, [100f], 3, 1, new(50f, 0), restored);
        Assert.Equal(new[] { 75f, 125f, 125f }, restored);
    }

    [Fact]
    public void A_shift_moves_the_centre_of_the_quantizer()
    {
        var codes = new byte[4];
        SampleQuantizer.Quantize([10f, 59f, 60f, 200f], [100f], 4, 1, new(50f, -40), codes);

        Assert.Equal(new byte[] { 0, 0, 1, 1 }, codes);
        var restored = new float[4];
        SampleQuantizer.Dequantize(codes, [100f], 4, 1, new(50f, -40), restored);
        Assert.Equal(new[] { 35f, 35f, 85f, 85f }, restored);
    }

    [Theory]
    [InlineData(8, 4)]
    [InlineData(8, 1)]
    [InlineData(5, 2)]
    [InlineData(3, 3)]
    public void Requantized_codes_reconstruct_the_centre_of_the_merged_bins(int from, int to)
    {
        var mean = new[] { 80f };
        const int shift = 47;
        var pixels = Enumerable.Range(0, 256).Select(v => (float)v).ToArray();
        var scale = SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(pixels, [mean[0] + shift], 256), from);
        var codes = new byte[256];
        SampleQuantizer.Quantize(pixels, mean, 256, from, new(scale, shift), codes);

        var lower = new byte[256];
        var requantized = SampleQuantizer.Requantize(codes, from, to, new(scale, shift), lower);

        Assert.Equal(new QuantizationParameters(scale * (1 << (from - to)), shift), requantized);
        var fine = new float[256];
        var coarse = new float[256];
        SampleQuantizer.Dequantize(codes, mean, 256, from, new(scale, shift), fine);
        SampleQuantizer.Dequantize(lower, mean, 256, to, requantized, coarse);
        for (var v = 0; v < 256; v++)
        {
            // The coarse level is the mean of the 2^(from−to) fine levels it merges (before clamping).
            var group = codes[v] >> (from - to) << (from - to);
            double sum = 0;
            for (var k = 0; k < 1 << (from - to); k++)
            {
                sum += mean[0] + shift + (scale * (group + k + SampleQuantizer.CodeOffset(from)));
            }

            var centre = Math.Clamp(sum / (1 << (from - to)), 0, 255);
            Assert.True(Math.Abs(coarse[v] - centre) < 1e-3, $"pixel {v}: {coarse[v]} != {centre}");
        }
    }

    [Theory]
    [InlineData("2bpp", 2.0, 0L)]
    [InlineData("0.5bpp", 0.5, 0L)]
    [InlineData("12MiB", 0.0, 12L << 20)]
    [InlineData("500kB", 0.0, 500_000L)]
    [InlineData("123456", 0.0, 123456L)]
    public void Budgets_parse(string text, double bpp, long bytes)
    {
        var budget = Budget.Parse(text);

        Assert.Equal(bpp, budget.BitsPerPixel);
        Assert.Equal(bytes, budget.Bytes);
    }

    [Theory]
    [InlineData("9bpp")]
    [InlineData("-1MiB")]
    [InlineData("lots")]
    public void Bad_budgets_say_what_is_wrong(string text)
    {
        var error = Assert.Throws<FormatException>(() => Budget.Parse(text));
        Assert.Contains(text, error.Message, StringComparison.Ordinal);
    }
}
