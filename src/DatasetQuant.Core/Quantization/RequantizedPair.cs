namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The (scale, shift) a record takes when its codes lose their low bits (u' = u &gt;&gt; k): fitted by least squares to the
/// values the wider record decodes to (clamped to 0–255 as the decoder does; <see cref="ReconstructionFit"/>), or the
/// merged bins' centre s·2^k with the same shift when that is closer to those values. A record is re-quantized from
/// itself alone, so a device and its coordinator that shrink the same record get the same bytes, and the copy never errs
/// more against the wider one than the merged bins' centre would.
/// </summary>
internal static class RequantizedPair
{
    /// <summary>The pair for the <paramref name="toBits"/>-bit codes and its squared error against the <paramref name="fromBits"/>-bit record's values.</summary>
    public static (QuantizationParameters Parameters, double SquaredError) Fit(ReadOnlySpan<byte> codes, int fromBits, int toBits,
        QuantizationParameters parameters, ReadOnlySpan<float> channelMean, int plane)
    {
        var k = fromBits - toBits;
        var merged = parameters with { Scale = parameters.Scale * (1 << k) };
        var (fromOffset, toOffset) = (SampleQuantizer.CodeOffset(fromBits), SampleQuantizer.CodeOffset(toBits));
        double sumK = 0, sumKK = 0, sumR = 0, sumKR = 0;
        for (var c = 0; c < channelMean.Length; c++)
        {
            var mean = channelMean[c];
            var centre = mean + parameters.Shift;
            foreach (var u in codes.Slice(c * plane, plane))
            {
                var r = Math.Clamp(centre + (parameters.Scale * (u + fromOffset)), 0f, 255f) - mean;
                var coarse = (u >> k) + toOffset;
                sumK += coarse;
                sumKK += coarse * coarse;
                sumR += r;
                sumKR += coarse * r;
            }
        }

        var mergedError = SquaredError(codes, fromBits, toBits, parameters, merged, channelMean, plane);
        if (ReconstructionFit.FromSums(codes.Length, sumK, sumKK, sumR, sumKR) is not { } fitted || fitted == merged)
        {
            return (merged, mergedError);
        }

        var fittedError = SquaredError(codes, fromBits, toBits, parameters, fitted, channelMean, plane);
        return fittedError < mergedError ? (fitted, fittedError) : (merged, mergedError);
    }

    /// <summary>Σ over pixels of (x̂' − x̂)², x̂ the wider record's value and x̂' the shifted code's under <paramref name="pair"/>, both as decoded.</summary>
    private static double SquaredError(ReadOnlySpan<byte> codes, int fromBits, int toBits, QuantizationParameters parameters,
        QuantizationParameters pair, ReadOnlySpan<float> channelMean, int plane)
    {
        var k = fromBits - toBits;
        var (fromOffset, toOffset) = (SampleQuantizer.CodeOffset(fromBits), SampleQuantizer.CodeOffset(toBits));
        double error = 0;
        for (var c = 0; c < channelMean.Length; c++)
        {
            var (centre, coarseCentre) = (channelMean[c] + parameters.Shift, channelMean[c] + pair.Shift);
            foreach (var u in codes.Slice(c * plane, plane))
            {
                var wide = Math.Clamp(centre + (parameters.Scale * (u + fromOffset)), 0f, 255f);
                var narrow = Math.Clamp(coarseCentre + (pair.Scale * ((u >> k) + toOffset)), 0f, 255f);
                error += (narrow - wide) * (narrow - wide);
            }
        }

        return error;
    }
}
