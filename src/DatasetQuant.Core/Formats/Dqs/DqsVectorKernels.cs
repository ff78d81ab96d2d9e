using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// The vector loops of <see cref="DqsSimdDecoder"/>. Each returns how many codes it decoded (whole groups only) and
/// leaves the rest to its caller; with no usable vector instructions it returns 0.
/// </summary>
internal static class DqsVectorKernels
{
    /// <summary>Widths 1..7 from a stream positioned at a group boundary; loads stay inside <paramref name="packed"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int DecodePacked<TBounds>(ReadOnlySpan<byte> packed, DqsDecodeLayout layout, Span<float> destination, float multiplier, float addend, float min, float max)
        where TBounds : struct, IDecodeBounds
    {
        var count = destination.Length;
        var step = layout.GroupBytes;
        var j = 0;
        fixed (byte* src = packed)
        fixed (float* dst = destination)
        fixed (byte* control = layout.Control)
        fixed (uint* lowMask = layout.LowMask)
        fixed (uint* highMask = layout.HighMask)
        fixed (float* lowScale = layout.LowScale)
        fixed (float* highScale = layout.HighScale)
        {
            // Whole groups only, and only those whose 16-byte load stays inside the stream; two per iteration so the
            // loop's own counting (which shares ports with the vector arithmetic) is paid once per 32 codes.
            var perGroup = 2 * layout.Lanes;
            var groups = count / perGroup;
            if (groups > 0 && (long)(groups - 1) * step + 16 > packed.Length)
            {
                // Only a stream without slack after its codes gets here; the reader's never does (no division then).
                groups = packed.Length < 16 ? 0 : Math.Min(groups, (packed.Length - 16) / step + 1);
            }
            var s = src;
            var d = dst;
            var g = 0;
            if (Avx2.IsSupported && layout.Lanes == 8)
            {
                var shuffle = Vector256.Load(control);
                var maskLow = Vector256.Load(lowMask).AsInt32();
                var maskHigh = Vector256.Load(highMask).AsInt32();
                var m = Vector256.Create(multiplier);
                var mLow = Vector256.Load(lowScale) * m;
                var mHigh = Vector256.Load(highScale) * m;
                var a = Vector256.Create(addend);
                var lo = Vector256.Create(min);
                var hi = Vector256.Create(max);
                for (; g + 2 <= groups; g += 2, s += 2 * step, d += 32)
                {
                    Group<TBounds>(s, d, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                    Group<TBounds>(s + step, d + 16, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                }

                if (g < groups)
                {
                    Group<TBounds>(s, d, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                }

                j = groups * perGroup;
            }
            else if ((Ssse3.IsSupported || AdvSimd.Arm64.IsSupported) && layout.Lanes == 4)
            {
                var shuffle = Vector128.Load(control);
                var maskLow = Vector128.Load(lowMask).AsInt32();
                var maskHigh = Vector128.Load(highMask).AsInt32();
                var m = Vector128.Create(multiplier);
                var mLow = Vector128.Load(lowScale) * m;
                var mHigh = Vector128.Load(highScale) * m;
                var a = Vector128.Create(addend);
                var lo = Vector128.Create(min);
                var hi = Vector128.Create(max);
                for (; g + 2 <= groups; g += 2, s += 2 * step, d += 16)
                {
                    Group<TBounds>(s, d, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                    Group<TBounds>(s + step, d + 8, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                }

                if (g < groups)
                {
                    Group<TBounds>(s, d, shuffle, maskLow, maskHigh, mLow, mHigh, a, lo, hi);
                }

                j = groups * perGroup;
            }
        }

        return j;
    }

    /// <summary>16 codes: one broadcast load, one shuffle, two masks, two conversions, two fused multiply-adds.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Group<TBounds>(byte* source, float* destination, Vector256<byte> shuffle, Vector256<int> maskLow, Vector256<int> maskHigh,
        Vector256<float> mLow, Vector256<float> mHigh, Vector256<float> a, Vector256<float> lo, Vector256<float> hi)
        where TBounds : struct, IDecodeBounds
    {
        // vbroadcasti128 is a plain load: both halves of the in-lane shuffle see the same 16 bytes.
        var windows = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(source), shuffle).AsInt32();
        var low = Avx.ConvertToVector256Single(windows & maskLow);
        var high = Avx.ConvertToVector256Single(windows & maskHigh);
        TBounds.Apply(DecodeMath.MultiplyAdd(low, mLow, a), lo, hi).Store(destination);
        TBounds.Apply(DecodeMath.MultiplyAdd(high, mHigh, a), lo, hi).Store(destination + 8);
    }

    /// <summary>8 codes, as above with 16-byte vectors (SSSE3 pshufb or Arm64 tbl).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Group<TBounds>(byte* source, float* destination, Vector128<byte> shuffle, Vector128<int> maskLow, Vector128<int> maskHigh,
        Vector128<float> mLow, Vector128<float> mHigh, Vector128<float> a, Vector128<float> lo, Vector128<float> hi)
        where TBounds : struct, IDecodeBounds
    {
        var block = Vector128.Load(source);
        var windows = (Ssse3.IsSupported ? Ssse3.Shuffle(block, shuffle) : AdvSimd.Arm64.VectorTableLookup(block, shuffle)).AsInt32();
        var low = Vector128.ConvertToSingle(windows & maskLow);
        var high = Vector128.ConvertToSingle(windows & maskHigh);
        TBounds.Apply(DecodeMath.MultiplyAdd(low, mLow, a), lo, hi).Store(destination);
        TBounds.Apply(DecodeMath.MultiplyAdd(high, mHigh, a), lo, hi).Store(destination + 4);
    }

    /// <summary>Width 8: each byte is a code.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe int DecodeBytes<TBounds>(ReadOnlySpan<byte> packed, Span<float> destination, float multiplier, float addend, float min, float max)
        where TBounds : struct, IDecodeBounds
    {
        var count = Math.Min(destination.Length, packed.Length);
        var j = 0;
        fixed (byte* src = packed)
        fixed (float* dst = destination)
        {
            if (Avx2.IsSupported)
            {
                var m = Vector256.Create(multiplier);
                var a = Vector256.Create(addend);
                var lo = Vector256.Create(min);
                var hi = Vector256.Create(max);
                for (; j + 32 <= count; j += 32)
                {
                    Bytes<TBounds>(src + j, dst + j, m, a, lo, hi);
                    Bytes<TBounds>(src + j + 8, dst + j + 8, m, a, lo, hi);
                    Bytes<TBounds>(src + j + 16, dst + j + 16, m, a, lo, hi);
                    Bytes<TBounds>(src + j + 24, dst + j + 24, m, a, lo, hi);
                }

                for (; j + 8 <= count; j += 8)
                {
                    Bytes<TBounds>(src + j, dst + j, m, a, lo, hi);
                }
            }
            else if (Vector128.IsHardwareAccelerated)
            {
                var m = Vector128.Create(multiplier);
                var a = Vector128.Create(addend);
                var lo = Vector128.Create(min);
                var hi = Vector128.Create(max);
                for (; j + 16 <= count; j += 16)
                {
                    var (w0, w1) = Vector128.Widen(Vector128.Load(src + j));
                    var (d0, d1) = Vector128.Widen(w0);
                    var (d2, d3) = Vector128.Widen(w1);
                    TBounds.Apply(DecodeMath.MultiplyAdd(Vector128.ConvertToSingle(d0.AsInt32()), m, a), lo, hi).Store(dst + j);
                    TBounds.Apply(DecodeMath.MultiplyAdd(Vector128.ConvertToSingle(d1.AsInt32()), m, a), lo, hi).Store(dst + j + 4);
                    TBounds.Apply(DecodeMath.MultiplyAdd(Vector128.ConvertToSingle(d2.AsInt32()), m, a), lo, hi).Store(dst + j + 8);
                    TBounds.Apply(DecodeMath.MultiplyAdd(Vector128.ConvertToSingle(d3.AsInt32()), m, a), lo, hi).Store(dst + j + 12);
                }
            }
        }

        return j;
    }

    /// <summary>8 codes of width 8: vpmovzxbd from memory, as in <see cref="PlainConversion"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Bytes<TBounds>(byte* source, float* destination, Vector256<float> m, Vector256<float> a, Vector256<float> lo, Vector256<float> hi)
        where TBounds : struct, IDecodeBounds
    {
        var values = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(source));
        TBounds.Apply(DecodeMath.MultiplyAdd(values, m, a), lo, hi).Store(destination);
    }
}
