using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class PipelineSeamTests
{
    [Fact]
    public void Float_samples_in_unit_range_quantize_and_decode_back()
    {
        using var dir = new TempDirectory();
        var source = Samples.FashionMnistTest.Take(50);
        var values = new float[50 * 784];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = source.AllPixels[i] / 255f;
        }

        var set = new FloatSampleSet("generated", 1, 28, 28, 10, values, source.Labels.ToArray());
        var result = DatasetQuantizer.Quantize(set, new QuantizeOptions { Budget = Budget.Parse("8bpp"), OutputDirectory = dir.Path, Allocator = new UniformAllocator() });

        using var reader = DqsReader.Open(result.ShardPaths.Single());
        var decoded = new float[784];
        var mean = reader.Header.ChannelMean[0];
        double squaredError = 0;
        for (var i = 0; i < 50; i++)
        {
            reader.Decode(i, decoded, DqsNormalization.Unit(1));
            Assert.Equal(source.Label(i), reader.Label(i));
            var (scale, shift) = reader.Parameters(i);
            var reach = scale * 128;
            for (var p = 0; p < 784; p++)
            {
                var x = values[i * 784 + p] * 255f;
                var error = MathF.Abs(decoded[p] - values[i * 784 + p]) * 255f;
                squaredError += error * error;
                // Pixels inside the quantizer's range are within half a step; the encoder may clip a few outliers
                // when that lowers the sample's total error.
                if (MathF.Abs(x - (mean + shift)) < reach)
                {
                    Assert.True(error <= (scale / 2) + 1e-3f, $"sample {i} pixel {p}: {x} decoded as {decoded[p] * 255f}, {reader.Parameters(i)}");
                }
            }
        }

        Assert.True(squaredError / (50 * 784) < 0.1, $"8-bit MSE {squaredError / (50 * 784)} on the 0–255 scale");
    }

    [Fact]
    public void A_custom_distortion_measure_steers_the_allocation_and_sees_real_reconstructions()
    {
        using var dir = new TempDirectory();
        var measure = new EvenSamplesMatterMeasure();
        var result = DatasetQuantizer.Quantize(Samples.FashionMnistTest.Take(200), new QuantizeOptions
        {
            Budget = Budget.Parse("3bpp"),
            OutputDirectory = dir.Path,
            DistortionMeasure = measure,
        });

        Assert.True(measure.Calls >= 4, "batches of 50 over 200 samples");
        Assert.True(measure.LargestReconstructionError < 1e-4, $"Reconstruct differs from the quantizer by {measure.LargestReconstructionError}");
        var even = result.Bits.Where((_, i) => i % 2 == 0).Average(b => (double)b);
        var odd = result.Bits.Where((_, i) => i % 2 == 1).Average(b => (double)b);
        Assert.True(even > odd + 2, $"even samples average {even} bits, odd {odd}");
    }

    /// <summary>Pixel MSE, a thousand times heavier for even samples; checks Reconstruct(b) against the quantizer.</summary>
    private sealed class EvenSamplesMatterMeasure : IDistortionMeasure
    {
        public int Calls { get; private set; }

        public double LargestReconstructionError { get; private set; }

        public string Name => "even-samples-matter";

        public int BatchSize => 50;

        public void Measure(DistortionBatch batch, Span<double> distortion)
        {
            Calls++;
            var reconstructed = new float[batch.Count * batch.PixelsPerSample];
            batch.Reconstruct(3, reconstructed);
            var codes = new byte[batch.PixelsPerSample];
            var expected = new float[batch.PixelsPerSample];
            var pixels = new float[batch.PixelsPerSample];
            var mean = new[] { batch.ChannelMean[0] * 255f };
            for (var k = 0; k < batch.Count; k++)
            {
                for (var p = 0; p < pixels.Length; p++)
                {
                    pixels[p] = batch.Original[k * batch.PixelsPerSample + p] * 255f;
                }

                var parameters = batch.Parameters[k * SampleQuantizer.WidthCount + 3];
                SampleQuantizer.Quantize(pixels, mean, 784, 3, parameters, codes);
                SampleQuantizer.Dequantize(codes, mean, 784, 3, parameters, expected);
                for (var p = 0; p < pixels.Length; p++)
                {
                    LargestReconstructionError = Math.Max(LargestReconstructionError, Math.Abs(expected[p] / 255f - reconstructed[k * batch.PixelsPerSample + p]));
                }

                var weight = (batch.FirstIndex + k) % 2 == 0 ? 1000.0 : 1.0;
                for (var b = 0; b < SampleQuantizer.WidthCount; b++)
                {
                    distortion[k * SampleQuantizer.WidthCount + b] = weight * batch.PixelMse[k * SampleQuantizer.WidthCount + b];
                }
            }
        }
    }
}
