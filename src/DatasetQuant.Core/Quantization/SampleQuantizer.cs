using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Per-sample symmetric (midrise) linear quantization around a per-sample centre μ_c + t, as docs/format.md defines it
/// (μ_c the dataset's channel mean, t the sample's whole-level shift). With residual r = x − μ_c − t (x on the 0–255
/// scale), scale s and width b: code u = clamp(floor(r · (1/s)) + 2^(b−1), 0, 2^b − 1); reconstruction
/// x̂ = clamp(μ_c + t + s·(u − 2^(b−1) + ½), 0, 255). Width 0 means the sample is dropped. Codes at b bits become codes
/// at b' &lt; b bits by u' = u &gt;&gt; (b − b'), with (s', t') refitted to the values the b-bit codes decode to (or
/// s·2^(b−b') and the same t, the merged bins' centre, when that is closer), so re-quantization needs only the record.
/// </summary>
public static class SampleQuantizer
{
    public const int MaxBits = 8;

    /// <summary>Widths 0..8, the length of each per-sample row of a distortion or scale table.</summary>
    public const int WidthCount = MaxBits + 1;

    /// <summary>Bytes of a sample's bit-packed payload: ceil(pixels·bits/8).</summary>
    public static int PackedBytes(int pixels, int bits) => (int)(((long)pixels * bits + 7) >> 3);

    /// <summary>The constant k in x̂ = μ + s·(u + k): ½ − 2^(b−1).</summary>
    public static float CodeOffset(int bits) => 0.5f - (1 << (bits - 1));

    /// <summary>
    /// The scale at which the largest residual lands in the outermost bin, shrunk by <paramref name="clip"/> (≤ 1), as
    /// the index stores it (binary16, <see cref="DqsScale"/>).
    /// </summary>
    public static float ScaleFor(float maxAbsResidual, int bits, float clip = 1f)
    {
        ValidateBits(bits);
        var scale = clip * maxAbsResidual / (1 << (bits - 1));
        return DqsScale.Round(scale > MinimumScale ? scale : MinimumScale);
    }

    /// <summary>The smallest scale an encoder writes (a constant sample at the mean still needs a positive scale).</summary>
    public const float MinimumScale = 1f / 1024f;

    /// <summary>max |x − μ_c| over the sample (its residuals before any shift).</summary>
    public static float MaxAbsResidual(ReadOnlySpan<float> pixels, ReadOnlySpan<float> channelMean, int plane)
    {
        var max = 0f;
        for (var c = 0; c < channelMean.Length; c++)
        {
            var mean = channelMean[c];
            foreach (var x in pixels.Slice(c * plane, plane))
            {
                max = MathF.Max(max, MathF.Abs(x - mean));
            }
        }

        return max;
    }

    /// <summary>Codes (one byte each, not packed) of <paramref name="pixels"/> (0–255 scale, CHW).</summary>
    public static void Quantize(ReadOnlySpan<float> pixels, ReadOnlySpan<float> channelMean, int plane, int bits, QuantizationParameters parameters,
        Span<byte> codes)
    {
        ValidateBits(bits);
        var half = 1 << (bits - 1);
        var top = (1 << bits) - 1;
        var inverse = 1f / parameters.Scale;
        for (var c = 0; c < channelMean.Length; c++)
        {
            var mean = channelMean[c] + parameters.Shift;
            var source = pixels.Slice(c * plane, plane);
            var destination = codes.Slice(c * plane, plane);
            for (var i = 0; i < source.Length; i++)
            {
                var q = (int)MathF.Floor((source[i] - mean) * inverse) + half;
                destination[i] = (byte)Math.Clamp(q, 0, top);
            }
        }
    }

    /// <summary>The reconstruction x̂ (0–255 scale, clamped) of codes made by <see cref="Quantize"/>.</summary>
    public static void Dequantize(ReadOnlySpan<byte> codes, ReadOnlySpan<float> channelMean, int plane, int bits, QuantizationParameters parameters,
        Span<float> pixels)
    {
        ValidateBits(bits);
        var offset = CodeOffset(bits);
        var scale = parameters.Scale;
        for (var c = 0; c < channelMean.Length; c++)
        {
            var mean = channelMean[c] + parameters.Shift;
            var source = codes.Slice(c * plane, plane);
            var destination = pixels.Slice(c * plane, plane);
            for (var i = 0; i < source.Length; i++)
            {
                destination[i] = Math.Clamp(mean + scale * (source[i] + offset), 0f, 255f);
            }
        }
    }

    /// <summary>
    /// Codes at <paramref name="toBits"/> from codes at <paramref name="fromBits"/> (in place allowed); the new parameters
    /// are returned: refitted to the values the wider codes decode to, or the merged bins' centre (the scale times
    /// 2^(fromBits − toBits), the same shift) when that is closer (<see cref="RequantizedPair"/>). The same width keeps
    /// the parameters as they are.
    /// </summary>
    public static QuantizationParameters Requantize(ReadOnlySpan<byte> codes, int fromBits, int toBits, QuantizationParameters parameters,
        ReadOnlySpan<float> channelMean, int plane, Span<byte> result)
    {
        ValidateBits(fromBits);
        ValidateBits(toBits);
        if (toBits > fromBits)
        {
            throw new ArgumentOutOfRangeException(nameof(toBits), toBits, $"cannot re-quantize {fromBits}-bit codes to more bits.");
        }

        if (channelMean.Length * plane != codes.Length)
        {
            throw new ArgumentException($"{codes.Length} codes are not {channelMean.Length} planes of {plane}.", nameof(plane));
        }

        var requantized = toBits == fromBits ? parameters : RequantizedPair.Fit(codes, fromBits, toBits, parameters, channelMean, plane).Parameters;
        var shift = fromBits - toBits;
        for (var i = 0; i < codes.Length; i++)
        {
            result[i] = (byte)(codes[i] >> shift);
        }

        return requantized;
    }

    internal static void ValidateBits(int bits)
    {
        if (bits is < 1 or > MaxBits)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "bit widths are 1..8 (0 means dropped, which has no codes).");
        }
    }
}
