using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// The baseline decode speed is measured against: uint8 pixels to float32 scaled by a constant, with the same vector
/// width the decoder uses and nothing else (no unpacking, no clamping).
/// </summary>
public static class PlainConversion
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void ToSingle(ReadOnlySpan<byte> source, Span<float> destination, float multiplier)
    {
        if (destination.Length < source.Length)
        {
            throw new ArgumentException($"{source.Length} bytes need as many floats; the destination has {destination.Length}.", nameof(destination));
        }

        var j = 0;
        fixed (byte* src = source)
        fixed (float* dst = destination)
        {
            if (Avx2.IsSupported)
            {
                // Unrolled like the decoder's loops, so neither side of the comparison pays more loop overhead.
                var m = Vector256.Create(multiplier);
                for (; j + 32 <= source.Length; j += 32)
                {
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j)) * m).Store(dst + j);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j + 8)) * m).Store(dst + j + 8);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j + 16)) * m).Store(dst + j + 16);
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j + 24)) * m).Store(dst + j + 24);
                }

                for (; j + 8 <= source.Length; j += 8)
                {
                    (Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j)) * m).Store(dst + j);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                var m = Vector128.Create(multiplier);
                for (; j + 16 <= source.Length; j += 16)
                {
                    var (w0, w1) = Vector128.Widen(Vector128.Load(src + j));
                    var (d0, d1) = Vector128.Widen(w0);
                    var (d2, d3) = Vector128.Widen(w1);
                    (Vector128.ConvertToSingle(d0.AsInt32()) * m).Store(dst + j);
                    (Vector128.ConvertToSingle(d1.AsInt32()) * m).Store(dst + j + 4);
                    (Vector128.ConvertToSingle(d2.AsInt32()) * m).Store(dst + j + 8);
                    (Vector128.ConvertToSingle(d3.AsInt32()) * m).Store(dst + j + 12);
                }
            }
        }

        for (; j < source.Length; j++)
        {
            destination[j] = source[j] * multiplier;
        }
    }
}
