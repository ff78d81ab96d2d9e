using System.Numerics;
using System.Runtime.InteropServices;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Finds, for one sample at every width, the quantizer (scale and centre shift) with the least pixel MSE.
/// Works on residuals r = x − μ_c with per-pixel bounds [−μ_c, 255 − μ_c] so that the clamp to 0–255 is included.
/// Two searches per width: the centred quantizer at a range of clip factors (the classic choice), then alternating
/// least squares on the centre and scale (Lloyd's iteration restricted to evenly spaced levels) started from the best
/// centred quantizer and from the sample's mid-range. Every candidate is scored by its true clamped error, so the result
/// is never worse than the centred one. This is the hot loop of adaptive allocation (samples × 8 widths × candidates ×
/// pixels), hence Vector&lt;float&gt;.
/// </summary>
internal static class DistortionKernel
{
    /// <summary>Clip factors tried for each width: 1, 15/16, …, 8/16 of the largest residual.</summary>
    public static ReadOnlySpan<float> ClipFactors => [1f, 0.9375f, 0.875f, 0.8125f, 0.75f, 0.6875f, 0.625f, 0.5625f, 0.5f];

    /// <summary>Least-squares steps per start; on Fashion-MNIST the fit settles within 3–6.</summary>
    private const int MaxRefinements = 8;

    /// <summary>
    /// Fills <paramref name="mse"/>[0..8] (mean squared error, 0–255 scale; [0] is the dropped sample, reconstructed as
    /// the mean) and <paramref name="parameters"/>[1..8].
    /// </summary>
    public static void Measure(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int clipFactorCount,
        Span<double> mse, Span<QuantizationParameters> parameters)
    {
        var maxAbs = 0f;
        var min = float.MaxValue;
        var max = float.MinValue;
        double energy = 0;
        foreach (var r in residual)
        {
            maxAbs = MathF.Max(maxAbs, MathF.Abs(r));
            min = MathF.Min(min, r);
            max = MathF.Max(max, r);
            energy += (double)r * r;
        }

        var n = residual.Length;
        mse[0] = energy / n;
        parameters[0] = default;
        var factors = ClipFactors[..Math.Clamp(clipFactorCount, 1, ClipFactors.Length)];
        var midRange = ClampShift(MathF.Round((min + max) / 2f));
        for (var bits = 1; bits <= SampleQuantizer.MaxBits; bits++)
        {
            var best = double.MaxValue;
            var bestParameters = default(QuantizationParameters);
            foreach (var factor in factors)
            {
                var candidate = new QuantizationParameters(SampleQuantizer.ScaleFor(maxAbs, bits, factor), 0);
                var error = SquaredError(residual, low, high, bits, candidate);
                if (error < best)
                {
                    best = error;
                    bestParameters = candidate;
                }
            }

            var spread = new QuantizationParameters(
                DqsScale.Round(MathF.Max((max - min) / (1 << bits), SampleQuantizer.MinimumScale)), midRange);
            Refine(residual, low, high, bits, bestParameters, ref best, ref bestParameters);
            Refine(residual, low, high, bits, spread, ref best, ref bestParameters);
            mse[bits] = best / n;
            parameters[bits] = bestParameters;
        }
    }

    public static double SquaredError(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int bits,
        QuantizationParameters parameters) => Fit(residual, low, high, bits, parameters).Error;

    /// <summary>Alternates codes ← (shift, scale) and (shift, scale) ← least squares on the codes, keeping the best seen.</summary>
    private static void Refine(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int bits,
        QuantizationParameters start, ref double best, ref QuantizationParameters bestParameters)
    {
        var current = start;
        for (var step = 0; step < MaxRefinements; step++)
        {
            var fit = Fit(residual, low, high, bits, current);
            if (fit.Error < best)
            {
                best = fit.Error;
                bestParameters = current;
            }

            if (fit.Next is not { } next || next == current)
            {
                return;
            }

            current = next;
        }
    }

    /// <summary>
    /// One pass over the sample: the clamped squared error of the codes <paramref name="thresholds"/> give, reconstructed
    /// with <paramref name="reconstruction"/> (the thresholds' own pair when null), and the least-squares pair for those
    /// codes (<see cref="ReconstructionFit"/>); null when every pixel fell in one bin.
    /// </summary>
    internal static (double Error, QuantizationParameters? Next) Fit(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high,
        int bits, QuantizationParameters thresholds, QuantizationParameters? reconstruction = null)
    {
        var half = (float)(1 << (bits - 1));
        var shift = (float)thresholds.Shift;
        var inverse = 1f / thresholds.Scale;
        var pair = reconstruction ?? thresholds;
        var (outScale, outShift) = (pair.Scale, (float)pair.Shift);
        var i = 0;
        double error = 0, sumK = 0, sumKK = 0, sumR = 0, sumKR = 0;
        if (Vector.IsHardwareAccelerated && residual.Length >= Vector<float>.Count)
        {
            var r = MemoryMarshal.Cast<float, Vector<float>>(residual);
            var lo = MemoryMarshal.Cast<float, Vector<float>>(low);
            var hi = MemoryMarshal.Cast<float, Vector<float>>(high);
            var vScale = new Vector<float>(outScale);
            var vOutShift = new Vector<float>(outShift);
            var vShift = new Vector<float>(shift);
            var vInverse = new Vector<float>(inverse);
            var vMinCode = new Vector<float>(-half);
            var vMaxCode = new Vector<float>(half - 1);
            var vHalf = new Vector<float>(0.5f);
            Vector<float> e = default, k1 = default, kk = default, r1 = default, kr = default;
            for (var v = 0; v < r.Length; v++)
            {
                var k = Vector.Min(Vector.Max(Vector.Floor((r[v] - vShift) * vInverse), vMinCode), vMaxCode) + vHalf;
                var reconstructed = Vector.Min(Vector.Max(vOutShift + (k * vScale), lo[v]), hi[v]);
                var d = reconstructed - r[v];
                e += d * d;
                k1 += k;
                kk += k * k;
                r1 += r[v];
                kr += k * r[v];
            }

            error = Vector.Sum(e);
            sumK = Vector.Sum(k1);
            sumKK = Vector.Sum(kk);
            sumR = Vector.Sum(r1);
            sumKR = Vector.Sum(kr);
            i = r.Length * Vector<float>.Count;
        }

        for (; i < residual.Length; i++)
        {
            var k = Math.Clamp(MathF.Floor((residual[i] - shift) * inverse), -half, half - 1) + 0.5f;
            var reconstructed = Math.Clamp(outShift + (k * outScale), low[i], high[i]);
            var d = reconstructed - residual[i];
            error += d * d;
            sumK += k;
            sumKK += k * k;
            sumR += residual[i];
            sumKR += k * residual[i];
        }

        return (error, ReconstructionFit.FromSums(residual.Length, sumK, sumKK, sumR, sumKR));
    }

    private static int ClampShift(float shift) => (int)Math.Clamp(shift, QuantizationParameters.MinShift, QuantizationParameters.MaxShift);
}
