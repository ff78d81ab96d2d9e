namespace DatasetQuant.Core.Quantization;

/// <summary>
/// For every sample and width 0..8: the encoder's quantization parameters, the pixel MSE, and the distortion the allocator minimises
/// (the pixel MSE unless a measure supplies another).
/// </summary>
public sealed class DistortionTable
{
    private DistortionTable(double[] distortion, double[] pixelMse, QuantizationParameters[] parameters, QuantizationParameters[] grids)
    {
        Distortion = distortion;
        PixelMse = pixelMse;
        Parameters = parameters;
        Grids = grids;
    }

    /// <summary>D[i·9 + b].</summary>
    public double[] Distortion { get; }

    /// <summary>Pixel MSE[i·9 + b] on the 0–255 scale.</summary>
    public double[] PixelMse { get; }

    /// <summary>Parameters[i·9 + b] (default at b = 0): the reconstruction a record at width b stores.</summary>
    public QuantizationParameters[] Parameters { get; }

    /// <summary>
    /// With embedded codes, Grids[i]: the sample's threshold grid (8-bit scale, shift; <see cref="EmbeddedCode"/>), which
    /// makes its codes at every width while <see cref="Parameters"/> reconstructs them; empty otherwise.
    /// </summary>
    public QuantizationParameters[] Grids { get; }

    /// <param name="embeddedCodes">One scale and shift per sample for all widths (<see cref="EmbeddedCode"/>) instead of a quantizer refitted per width.</param>
    public static DistortionTable Measure(ISampleSource source, ChannelStatistics statistics, IDistortionMeasure measure, int clipSearch,
        int maxDegreeOfParallelism, IProgress<QuantizeProgress>? progress, CancellationToken cancellationToken, bool embeddedCodes = false)
    {
        var n = source.Count;
        var w = SampleQuantizer.WidthCount;
        var distortion = new double[n * w];
        var pixelMse = new double[n * w];
        var parameters = new QuantizationParameters[n * w];
        var grids = embeddedCodes ? new QuantizationParameters[n] : [];
        var pixels = source.Channels * source.Height * source.Width;
        var plane = source.Height * source.Width;
        var low = new float[pixels];
        var high = new float[pixels];
        for (var c = 0; c < source.Channels; c++)
        {
            low.AsSpan(c * plane, plane).Fill(-statistics.Mean[c]);
            high.AsSpan(c * plane, plane).Fill(255f - statistics.Mean[c]);
        }

        var batchSize = Math.Max(1, measure.BatchSize);
        var batch = new DistortionBatch(batchSize, source.Channels, source.Height, source.Width, statistics.Mean, statistics.StandardDeviation);
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism), CancellationToken = cancellationToken };
        var isPixelMse = measure is PixelMseDistortion;
        for (var first = 0; first < n; first += batchSize)
        {
            var count = Math.Min(batchSize, n - first);
            batch.FirstIndex = first;
            batch.Count = count;
            for (var k = 0; k < count; k++)
            {
                batch.Labels[k] = source.Label(first + k);
            }

            var firstIndex = first;
            Parallel.For(0, count, parallel, () => (new float[pixels], new float[pixels]), (k, _, scratch) =>
            {
                var (values, residual) = scratch;
                var i = firstIndex + k;
                source.ReadPixels(i, values);
                for (var c = 0; c < source.Channels; c++)
                {
                    var mean = statistics.Mean[c];
                    for (var p = c * plane; p < (c + 1) * plane; p++)
                    {
                        residual[p] = values[p] - mean;
                    }
                }

                DistortionKernel.Measure(residual, low, high, clipSearch, pixelMse.AsSpan(i * w, w), parameters.AsSpan(i * w, w));
                if (embeddedCodes)
                {
                    grids[i] = EmbeddedCode.Choose(residual, low, high, pixelMse.AsSpan(i * w, w), parameters.AsSpan(i * w, w));
                }
                if (!isPixelMse)
                {
                    var target = batch.OriginalMutableAt(k);
                    for (var p = 0; p < pixels; p++)
                    {
                        target[p] = values[p] / 255f;
                    }
                }

                return scratch;
            }, _ => { });

            pixelMse.AsSpan(first * w, count * w).CopyTo(batch.PixelMseMutable);
            parameters.AsSpan(first * w, count * w).CopyTo(batch.ParametersMutable);
            if (isPixelMse)
            {
                pixelMse.AsSpan(first * w, count * w).CopyTo(distortion.AsSpan(first * w));
            }
            else
            {
                var measured = distortion.AsSpan(first * w, count * w);
                measure.Measure(batch, measured);
                foreach (var d in measured)
                {
                    if (!(d >= 0) || double.IsInfinity(d))
                    {
                        throw new InvalidOperationException($"distortion measure {measure.Name} returned {d} for samples {first}..{first + count - 1}; values must be finite and non-negative.");
                    }
                }
            }

            progress?.Report(new QuantizeProgress(QuantizeStage.Measuring, first + count, n));
        }

        return new DistortionTable(distortion, pixelMse, parameters, grids);
    }

    /// <summary>Mean pixel MSE over all samples at the given widths (dropped samples count as the mean image).</summary>
    public double MeanSquaredError(ReadOnlySpan<byte> bits)
    {
        double total = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            total += PixelMse[i * SampleQuantizer.WidthCount + bits[i]];
        }

        return bits.Length == 0 ? 0 : total / bits.Length;
    }

    /// <summary>Σ w_i·D_i(b_i) / N.</summary>
    public double WeightedDistortion(ReadOnlySpan<byte> bits, ReadOnlySpan<double> importance)
    {
        double total = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            total += (importance.IsEmpty ? 1.0 : importance[i]) * Distortion[i * SampleQuantizer.WidthCount + bits[i]];
        }

        return bits.Length == 0 ? 0 : total / bits.Length;
    }
}
