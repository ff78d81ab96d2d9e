using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Embedded per-sample codes: one scale s₈ and shift t per sample for every width, the scale at width b being
/// s₈·2^(8−b). The b-bit codes are then the top b bits of the 8-bit codes (docs/format.md §6, "Re-quantization"),
/// so a sample at any width is a prefix of its bit planes: a device can shrink it without the original and grow it
/// by receiving only the planes it lacks.
/// <para>
/// The price is that the quantizer is no longer refitted per width. The pair is chosen among the per-width optima the
/// encoder already found (each rescaled to 8 bits): the one with the least Σ_b MSE(b) over b = 1..8. The sum is in
/// absolute terms, so the coarse widths, whose errors are largest and which a tight budget gives to most samples,
/// decide; a fine width loses least by inheriting a coarse width's range. docs/results.md ("Embedded codes") has what
/// this costs against per-width refitting, and the other sums tried: of √MSE, of MSE^¾, of log MSE, and the largest
/// ratio to the refitted MSE; each cost less at 4 bpp and more at 1 bpp).
/// </para>
/// </summary>
internal static class EmbeddedCode
{
    /// <summary>The scale at width <paramref name="bits"/> of a code whose 8-bit scale is <paramref name="scale8"/> (exact in float32).</summary>
    public static float ScaleAt(float scale8, int bits) => scale8 * (1 << (SampleQuantizer.MaxBits - bits));

    /// <summary>
    /// Replaces the per-width optima in <paramref name="mse"/>[1..8] and <paramref name="parameters"/>[1..8] (as
    /// <see cref="DistortionKernel.Measure"/> left them) by the best embedded code's.
    /// </summary>
    public static void Choose(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, Span<double> mse,
        Span<QuantizationParameters> parameters)
    {
        const int widths = SampleQuantizer.MaxBits;
        Span<double> candidate = stackalloc double[widths + 1];
        Span<double> best = stackalloc double[widths + 1];
        var bestTotal = double.PositiveInfinity;
        QuantizationParameters bestAt8 = default;
        Span<QuantizationParameters> fitted = stackalloc QuantizationParameters[widths + 1];
        parameters.CopyTo(fitted);
        for (var from = 1; from <= widths; from++)
        {
            // Rounded to binary16 once at 8 bits: every width's scale is then a power-of-two multiple the index holds exactly.
            var at8 = new QuantizationParameters(
                DqsScale.Round(MathF.Max(fitted[from].Scale / (1 << (widths - from)), SampleQuantizer.MinimumScale / (1 << (widths - 1)))), fitted[from].Shift);
            double total = 0;
            for (var b = 1; b <= widths && total < bestTotal; b++)
            {
                // The fitted width itself needs no second pass: its code is the one measured.
                candidate[b] = b == from
                    ? mse[b] * residual.Length
                    : DistortionKernel.SquaredError(residual, low, high, b, at8 with { Scale = ScaleAt(at8.Scale, b) });
                total += candidate[b];
            }

            if (total < bestTotal)
            {
                bestTotal = total;
                bestAt8 = at8;
                candidate.CopyTo(best);
            }
        }

        for (var b = 1; b <= widths; b++)
        {
            mse[b] = best[b] / residual.Length;
            parameters[b] = bestAt8 with { Scale = ScaleAt(bestAt8.Scale, b) };
        }
    }
}
