using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The reconstruction (scale s, shift t) that fits given codes to given values by least squares: the regression of the
/// residual r on the centred code k (x̂ = μ + t + s·k), t rounded to a whole level in [−128, 127] (records store whole
/// levels) and s refitted for that t and rounded to binary16 (as the index stores it). The encoder's alternating search,
/// the embedded code's per-width reconstruction and every re-quantization take their pair from here, so a record's pair
/// is made by one rule wherever it is made.
/// </summary>
internal static class ReconstructionFit
{
    /// <summary>
    /// The pair from the sums over the pixels of k, k², r and k·r; null when the codes cannot carry a scale (every pixel in
    /// one bin, or a fitted scale below <see cref="SampleQuantizer.MinimumScale"/> or beyond binary16).
    /// </summary>
    public static QuantizationParameters? FromSums(double n, double sumK, double sumKK, double sumR, double sumKR)
    {
        var determinant = (n * sumKK) - (sumK * sumK);
        if (!(determinant > 1e-9 * n * sumKK))
        {
            return null;
        }

        var slope = ((n * sumKR) - (sumK * sumR)) / determinant;
        // Rounded in float64, half to even, as docs/format.md §6 says: a float32 cast first would round 3.4999999 up.
        var shift = (int)Math.Clamp(Math.Round((sumR - (slope * sumK)) / n, MidpointRounding.ToEven), QuantizationParameters.MinShift, QuantizationParameters.MaxShift);
        var scale = DqsScale.Round((float)((sumKR - (shift * sumK)) / sumKK));
        return scale >= SampleQuantizer.MinimumScale && !float.IsInfinity(scale) ? new QuantizationParameters(scale, shift) : null;
    }
}
