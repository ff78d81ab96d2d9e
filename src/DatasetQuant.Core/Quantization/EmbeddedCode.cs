using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Embedded per-sample codes: one threshold grid per sample for every width, an 8-bit scale s₈ and a shift t, the
/// thresholds at width b being those of scale s₈·2^(8−b). The b-bit codes are then the top b bits of the 8-bit codes
/// (docs/format.md §11), so a sample at any width is a prefix of its bit planes: a device can shrink it without the
/// original and grow it by receiving only the planes it lacks.
/// <para>
/// Only the thresholds must nest; a decoder needs nothing but a (scale, shift) per record. So each width stores its own
/// reconstruction: the least-squares pair for the codes the grid gives (<see cref="ReconstructionFit"/>), or the grid's
/// own pair s₈·2^(8−b), t when that is better. The grid is chosen among spacings and centres of the per-width optima the
/// encoder already found (each spacing rescaled to 8 bits) by <see cref="Cost"/> of the errors with those reconstructions. docs/results.md ("What
/// embedded codes cost") has what this costs against per-width refitting and the objectives tried.
/// </para>
/// </summary>
internal static class EmbeddedCode
{
    /// <summary>The scale at width <paramref name="bits"/> of a code whose 8-bit scale is <paramref name="scale8"/> (exact in float32).</summary>
    public static float ScaleAt(float scale8, int bits) => scale8 * (1 << (SampleQuantizer.MaxBits - bits));

    /// <summary>The thresholds at width <paramref name="bits"/> of the grid <paramref name="grid"/> (its 8-bit scale and shift).</summary>
    public static QuantizationParameters GridAt(QuantizationParameters grid, int bits) => grid with { Scale = ScaleAt(grid.Scale, bits) };

    /// <summary>
    /// What a grid costs, from its squared errors at widths 1..8 (each with that width's reconstruction): Σ_b E_b^¾.
    /// Absolute errors (Σ E_b) let the coarse widths, whose errors are largest, decide alone: the grid then suits 1 and
    /// 2 bits and leaves 4 bits at 1.48× the refitted error on Fashion-MNIST test; relative ones (Σ log E_b, or E_b over
    /// the dataset's mean at b) let the fine widths decide and cost 1.5× at 1 bit. The ¾ power balances them: embedded ÷
    /// refitted 1.067 / 1.069 / 1.324 at 1 / 2 / 4 bpp, against 1.036 / 1.080 / 1.479 for the sum and 1.112 / 1.113 /
    /// 1.209 for Σ √E_b (docs/results.md, "What embedded codes cost").
    /// </summary>
    private static double Cost(ReadOnlySpan<double> squaredErrors)
    {
        double total = 0;
        for (var b = 1; b < squaredErrors.Length; b++)
        {
            total += Math.Pow(squaredErrors[b], 0.75);
        }

        return total;
    }

    /// <summary>
    /// Replaces the per-width optima in <paramref name="mse"/>[1..8] and <paramref name="parameters"/>[1..8] (as
    /// <see cref="DistortionKernel.Measure"/> left them) by the best grid's error and reconstruction at each width, and
    /// returns that grid (8-bit scale, shift), which makes the codes.
    /// </summary>
    public static QuantizationParameters Choose(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, Span<double> mse,
        Span<QuantizationParameters> parameters)
    {
        const int widths = SampleQuantizer.MaxBits;
        Span<double> candidate = stackalloc double[widths + 1];
        Span<double> best = stackalloc double[widths + 1];
        Span<QuantizationParameters> candidatePairs = stackalloc QuantizationParameters[widths + 1];
        Span<QuantizationParameters> bestPairs = stackalloc QuantizationParameters[widths + 1];
        var bestCost = double.PositiveInfinity;
        QuantizationParameters bestGrid = default;
        Span<QuantizationParameters> fitted = stackalloc QuantizationParameters[widths + 1];
        parameters.CopyTo(fitted);
        // Candidates: the spacing of one width's optimum with the centre of another's (64 grids). The centre decides the
        // coarse widths (at 1 bit it is the threshold) and the spacing the fine ones, so pairing them freely finds grids
        // that neither width's own optimum is: on Fashion-MNIST test 1.067 / 1.324 at 1 / 4 bpp against 1.089 / 1.451.
        for (var candidateIndex = 0; candidateIndex < widths * widths; candidateIndex++)
        {
            var (spacingFrom, centreFrom) = ((candidateIndex / widths) + 1, (candidateIndex % widths) + 1);
            // Rounded to binary16 once at 8 bits: every width's thresholds are then a power-of-two multiple the index holds exactly.
            var grid = new QuantizationParameters(
                DqsScale.Round(MathF.Max(fitted[spacingFrom].Scale / (1 << (widths - spacingFrom)), SampleQuantizer.MinimumScale / (1 << (widths - 1)))),
                fitted[centreFrom].Shift);
            for (var b = 1; b <= widths; b++)
            {
                (candidate[b], candidatePairs[b]) = Reconstruct(residual, low, high, b, GridAt(grid, b));
            }

            var cost = Cost(candidate);
            if (cost < bestCost)
            {
                bestCost = cost;
                bestGrid = grid;
                candidate.CopyTo(best);
                candidatePairs.CopyTo(bestPairs);
            }
        }

        for (var b = 1; b <= widths; b++)
        {
            mse[b] = best[b] / residual.Length;
            parameters[b] = bestPairs[b];
        }

        return bestGrid;
    }

    /// <summary>The reconstruction of the codes <paramref name="thresholds"/> give (the least-squares pair or theirs, whichever errs less) and its squared error.</summary>
    private static (double Error, QuantizationParameters Pair) Reconstruct(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high,
        int bits, QuantizationParameters thresholds)
    {
        var (error, next) = DistortionKernel.Fit(residual, low, high, bits, thresholds);
        if (next is not { } pair || pair == thresholds)
        {
            return (error, thresholds);
        }

        var refitted = DistortionKernel.Fit(residual, low, high, bits, thresholds, pair).Error;
        return refitted < error ? (refitted, pair) : (error, thresholds);
    }
}
