using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Turns a bit-packed code stream into float32 in one pass: out = clamp(code·multiplier + addend, min, max), which is
/// the dequantization and the caller's normalisation folded into one affine map. Widths 1..7 gather 16 codes (Vector256,
/// AVX2) or 8 codes (Vector128: SSSE3, Arm64) with one byte shuffle, isolate each with a mask and convert it where it
/// lies (<see cref="DqsDecodeLayout"/>); width 8 widens bytes directly. A scalar tail finishes; with hardware
/// intrinsics off the scalar loop does everything.
/// </summary>
public static class DqsSimdDecoder
{
    // Room for what the vector loop leaves: fewer than 16 bytes, i.e. at most 127 codes at 1 bit, padded.
    private const int TailBytes = 64;
    private const int TailCodes = 160;

    /// <summary>
    /// Decodes destination.Length codes starting at code <paramref name="firstCode"/> of <paramref name="packed"/> (the
    /// whole stream of one sample). The vector loops read whole 16-byte blocks: a stream that extends at least 16 bytes
    /// past its last needed code is decoded entirely by them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Decode(ReadOnlySpan<byte> packed, int bits, int firstCode, Span<float> destination, float multiplier, float addend, float min, float max)
    {
        var count = destination.Length;
        if (count == 0)
        {
            return;
        }

        var needed = ((long)(firstCode + count) * bits + 7) >> 3;
        if (bits is < 1 or > 8 || firstCode < 0 || needed > packed.Length)
        {
            throw new ArgumentException($"{count} codes of {bits} bits from code {firstCode} need {needed} bytes; the stream has {packed.Length}.", nameof(packed));
        }

        var j = 0;
        var code = firstCode;
        while (j < count && (code & 7) != 0)
        {
            destination[j++] = Scalar(packed, bits, code++, multiplier, addend, min, max);
        }

        if (count - j >= 8 && Vector128.IsHardwareAccelerated)
        {
            // The map is monotone in the code, so the codes 0 and 2^b − 1 tell which sides of the clamp can be reached.
            var atZero = addend;
            var atTop = MathF.FusedMultiplyAdd((1 << bits) - 1, multiplier, addend);
            var clampLow = !(MathF.Min(atZero, atTop) >= min);
            var clampHigh = !(MathF.Max(atZero, atTop) <= max);
            var rest = destination[j..];
            var done = (clampLow, clampHigh) switch
            {
                (false, false) => DecodeVectorized<ClampNone>(packed, bits, code, rest, multiplier, addend, min, max),
                (true, false) => DecodeVectorized<ClampLow>(packed, bits, code, rest, multiplier, addend, min, max),
                (false, true) => DecodeVectorized<ClampHigh>(packed, bits, code, rest, multiplier, addend, min, max),
                _ => DecodeVectorized<ClampBoth>(packed, bits, code, rest, multiplier, addend, min, max),
            };
            j += done;
            code += done;
        }

        for (; j < count; j++, code++)
        {
            destination[j] = Scalar(packed, bits, code, multiplier, addend, min, max);
        }
    }

    /// <summary>For tests and benchmarks: which path <see cref="Decode"/> takes on this machine.</summary>
    public static string Path => Avx2.IsSupported ? "Vector256 (AVX2)" : Ssse3.IsSupported ? "Vector128 (SSSE3)" : AdvSimd.Arm64.IsSupported ? "Vector128 (Arm64)" : "scalar";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar(ReadOnlySpan<byte> packed, int bits, int code, float multiplier, float addend, float min, float max)
    {
        var value = MathF.FusedMultiplyAdd(DqsBitPacking.CodeAt(packed, bits, code), multiplier, addend);
        return MathF.Min(MathF.Max(value, min), max);
    }

    /// <summary>Decodes from code <paramref name="code"/> (a multiple of 8, so byte-aligned) on; returns how many codes.</summary>
    private static int DecodeVectorized<TBounds>(ReadOnlySpan<byte> packed, int bits, int code, Span<float> destination, float multiplier, float addend, float min, float max)
        where TBounds : struct, IDecodeBounds
    {
        if (bits == 8)
        {
            return DqsVectorKernels.DecodeBytes<TBounds>(packed[code..], destination, multiplier, addend, min, max);
        }

        var layout = Avx2.IsSupported ? DqsDecodeLayout.Wide[bits]! : DqsDecodeLayout.Narrow[bits]!;
        var start = code / 8 * bits;
        var done = DqsVectorKernels.DecodePacked<TBounds>(packed[start..], layout, destination, multiplier, addend, min, max);
        if (destination.Length - done < 2 * layout.Lanes)
        {
            return done;
        }

        // The loop stopped less than 16 bytes before the end of the stream (it loads 16 at a time). The rest goes
        // through the same loop from a zero-padded copy instead of the scalar loop.
        start += done / 8 * bits;
        Span<byte> padded = stackalloc byte[TailBytes];
        Span<float> decoded = stackalloc float[TailCodes];
        padded.Clear();
        packed.Slice(start, Math.Min(packed.Length - start, TailBytes - 16)).CopyTo(padded);
        var tail = Math.Min(destination.Length - done, TailCodes);
        var more = DqsVectorKernels.DecodePacked<TBounds>(padded, layout, decoded[..tail], multiplier, addend, min, max);
        decoded[..more].CopyTo(destination[done..]);
        return done + more;
    }
}
