using System.Numerics;
using System.Runtime.InteropServices;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Quantizes one sample at every width and clip factor and keeps, per width, the scale with the least pixel MSE.
/// Works on residuals r = x − μ_c with per-pixel bounds [−μ_c, 255 − μ_c] so that the clamp to 0–255 is included.
/// This is the hot loop of adaptive allocation (samples × 8 widths × clip factors × pixels), hence Vector&lt;float&gt;.
/// </summary>
internal static class DistortionKernel
{
    /// <summary>Clip factors tried for each width: 1, 15/16, …, 8/16 of the largest residual.</summary>
    public static ReadOnlySpan<float> ClipFactors => [1f, 0.9375f, 0.875f, 0.8125f, 0.75f, 0.6875f, 0.625f, 0.5625f, 0.5f];

    /// <summary>
    /// Fills <paramref name="mse"/>[0..8] (mean squared error, 0–255 scale; [0] is the dropped sample, reconstructed as
    /// the mean) and <paramref name="scales"/>[1..8].
    /// </summary>
    public static void Measure(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int clipFactorCount,
        Span<double> mse, Span<float> scales)
    {
        var maxAbs = 0f;
        double energy = 0;
        foreach (var r in residual)
        {
            maxAbs = MathF.Max(maxAbs, MathF.Abs(r));
            energy += (double)r * r;
        }

        var n = residual.Length;
        mse[0] = energy / n;
        scales[0] = 0f;
        var factors = ClipFactors[..Math.Clamp(clipFactorCount, 1, ClipFactors.Length)];
        for (var bits = 1; bits <= SampleQuantizer.MaxBits; bits++)
        {
            var best = double.MaxValue;
            var bestScale = 0f;
            foreach (var factor in factors)
            {
                var scale = SampleQuantizer.ScaleFor(maxAbs, bits, factor);
                var error = SquaredError(residual, low, high, bits, scale);
                if (error < best)
                {
                    best = error;
                    bestScale = scale;
                }
            }

            mse[bits] = best / n;
            scales[bits] = bestScale;
        }
    }

    public static double SquaredError(ReadOnlySpan<float> residual, ReadOnlySpan<float> low, ReadOnlySpan<float> high, int bits, float scale)
    {
        var half = (float)(1 << (bits - 1));
        var i = 0;
        double total = 0;
        if (Vector.IsHardwareAccelerated && residual.Length >= Vector<float>.Count)
        {
            var r = MemoryMarshal.Cast<float, Vector<float>>(residual);
            var lo = MemoryMarshal.Cast<float, Vector<float>>(low);
            var hi = MemoryMarshal.Cast<float, Vector<float>>(high);
            var vScale = new Vector<float>(scale);
            var vMinCode = new Vector<float>(-half);
            var vMaxCode = new Vector<float>(half - 1);
            var vHalf = new Vector<float>(0.5f);
            var sum = Vector<float>.Zero;
            for (var v = 0; v < r.Length; v++)
            {
                var q = Vector.Min(Vector.Max(Vector.Floor(r[v] / vScale), vMinCode), vMaxCode);
                var reconstructed = Vector.Min(Vector.Max((q + vHalf) * vScale, lo[v]), hi[v]);
                var error = reconstructed - r[v];
                sum += error * error;
            }

            total = Vector.Sum(sum);
            i = r.Length * Vector<float>.Count;
        }

        for (; i < residual.Length; i++)
        {
            var q = Math.Clamp(MathF.Floor(residual[i] / scale), -half, half - 1);
            var reconstructed = Math.Clamp((q + 0.5f) * scale, low[i], high[i]);
            var error = reconstructed - residual[i];
            total += error * error;
        }

        return total;
    }
}
