namespace DatasetQuant.Core.Quantization;

/// <summary>
/// A batch of consecutive samples handed to an <see cref="IDistortionMeasure"/>: the originals, the parameters the encoder
/// will use at each width, the pixel MSE already measured, and reconstructions at any width on demand.
/// </summary>
public sealed class DistortionBatch
{
    private readonly float[] _original;
    private readonly QuantizationParameters[] _parameters;
    private readonly double[] _pixelMse;
    private readonly float[] _mean;
    private readonly byte[] _codes;
    private readonly float[] _pixelScratch;

    internal DistortionBatch(int capacity, int channels, int height, int width, float[] mean, float[] standardDeviation)
    {
        Channels = channels;
        Height = height;
        Width = width;
        PixelsPerSample = channels * height * width;
        _mean = mean;
        ChannelMean = Array.ConvertAll(mean, m => m / 255f);
        ChannelStandardDeviation = Array.ConvertAll(standardDeviation, s => s / 255f);
        _original = new float[capacity * PixelsPerSample];
        _parameters = new QuantizationParameters[capacity * SampleQuantizer.WidthCount];
        _pixelMse = new double[capacity * SampleQuantizer.WidthCount];
        Labels = new int[capacity];
        _codes = new byte[PixelsPerSample];
        _pixelScratch = new float[PixelsPerSample];
    }

    /// <summary>Index of the batch's first sample in the source.</summary>
    public int FirstIndex { get; internal set; }

    public int Count { get; internal set; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int PixelsPerSample { get; }

    /// <summary>The dataset's per-channel mean and standard deviation on the [0, 1] scale (for normalising model inputs).</summary>
    public IReadOnlyList<float> ChannelMean { get; }

    public IReadOnlyList<float> ChannelStandardDeviation { get; }

    /// <summary>Labels of the batch's samples.</summary>
    public int[] Labels { get; }

    /// <summary>The original samples, [0, 1] scale, CHW, sample after sample.</summary>
    public ReadOnlySpan<float> Original => _original.AsSpan(0, Count * PixelsPerSample);

    /// <summary>parameters[k·9 + b]: the quantizer sample k gets at width b (default at b = 0).</summary>
    public ReadOnlySpan<QuantizationParameters> Parameters => _parameters.AsSpan(0, Count * SampleQuantizer.WidthCount);

    /// <summary>pixelMse[k·9 + b] on the 0–255 scale, already measured.</summary>
    public ReadOnlySpan<double> PixelMse => _pixelMse.AsSpan(0, Count * SampleQuantizer.WidthCount);

    internal Span<float> OriginalMutable => _original.AsSpan(0, Count * PixelsPerSample);

    internal Span<float> OriginalMutableAt(int k) => _original.AsSpan(k * PixelsPerSample, PixelsPerSample);

    internal Span<QuantizationParameters> ParametersMutable => _parameters.AsSpan(0, Count * SampleQuantizer.WidthCount);

    internal Span<double> PixelMseMutable => _pixelMse.AsSpan(0, Count * SampleQuantizer.WidthCount);

    /// <summary>
    /// The whole batch as it decodes at width <paramref name="bits"/> ([0, 1] scale, CHW). Width 0 gives the dataset mean
    /// image, which stands in for a dropped sample.
    /// </summary>
    public void Reconstruct(int bits, Span<float> destination)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bits, SampleQuantizer.MaxBits);
        ArgumentOutOfRangeException.ThrowIfNegative(bits);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Count * PixelsPerSample, nameof(destination));
        var plane = Height * Width;
        for (var k = 0; k < Count; k++)
        {
            var target = destination.Slice(k * PixelsPerSample, PixelsPerSample);
            if (bits == 0)
            {
                for (var c = 0; c < Channels; c++)
                {
                    target.Slice(c * plane, plane).Fill(_mean[c] / 255f);
                }

                continue;
            }

            var original = _original.AsSpan(k * PixelsPerSample, PixelsPerSample);
            for (var p = 0; p < original.Length; p++)
            {
                _pixelScratch[p] = original[p] * 255f;
            }

            var parameters = _parameters[k * SampleQuantizer.WidthCount + bits];
            SampleQuantizer.Quantize(_pixelScratch, _mean, plane, bits, parameters, _codes);
            SampleQuantizer.Dequantize(_codes, _mean, plane, bits, parameters, target);
            for (var p = 0; p < target.Length; p++)
            {
                target[p] /= 255f;
            }
        }
    }
}
