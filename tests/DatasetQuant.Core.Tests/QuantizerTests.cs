using DatasetQuant.Core.Formats.Dqs;
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
    public void Requantized_codes_are_the_top_bits_and_err_no_more_than_the_merged_bins_centre(int from, int to)
    {
        var mean = new[] { 80f };
        const int shift = 47;
        // A ramp clamped at both ends, so that the merged centre and the clamp both matter.
        var pixels = Enumerable.Range(0, 256).Select(v => (float)v).ToArray();
        var scale = SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(pixels, [mean[0] + shift], 256), from, 0.75f);
        var codes = new byte[256];
        SampleQuantizer.Quantize(pixels, mean, 256, from, new(scale, shift), codes);

        var lower = new byte[256];
        var requantized = SampleQuantizer.Requantize(codes, from, to, new(scale, shift), mean, 256, lower);

        Assert.Equal(codes.Select(c => (byte)(c >> (from - to))), lower);
        var fine = new float[256];
        var coarse = new float[256];
        var centre = new float[256];
        SampleQuantizer.Dequantize(codes, mean, 256, from, new(scale, shift), fine);
        SampleQuantizer.Dequantize(lower, mean, 256, to, requantized, coarse);
        SampleQuantizer.Dequantize(lower, mean, 256, to, new(scale * (1 << (from - to)), shift), centre);
        double Error(float[] x) => x.Zip(fine, (a, b) => (double)(a - b) * (a - b)).Sum();
        if (from == to)
        {
            Assert.Equal(new QuantizationParameters(scale, shift), requantized);
            return;
        }

        // The ramp clamps at 0 and 255, where the merged bins' centre is off: the refit must do strictly better.
        Assert.True(Error(coarse) < Error(centre), $"refitted {Error(coarse):F1}, merged centre {Error(centre):F1}");
        Assert.True(DqsScale.IsExact(requantized.Scale));
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
