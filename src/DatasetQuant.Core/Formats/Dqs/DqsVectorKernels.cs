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
        var offset = 0;
        fixed (byte* src = packed)
        fixed (float* dst = destination)
        fixed (byte* control = layout.Control)
        fixed (uint* lowMask = layout.LowMask)
        fixed (uint* highMask = layout.HighMask)
        fixed (float* lowScale = layout.LowScale)
        fixed (float* highScale = layout.HighScale)
        {
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
                for (; j + 16 <= count && offset + 16 <= packed.Length; j += 16, offset += step)
                {
                    // vbroadcasti128 is a plain load: both halves of the shuffle see the same 16 bytes.
                    var windows = Avx2.Shuffle(Avx2.BroadcastVector128ToVector256(src + offset), shuffle).AsInt32();
                    var low = Avx.ConvertToVector256Single(windows & maskLow);
                    var high = Avx.ConvertToVector256Single(windows & maskHigh);
                    TBounds.Apply(DecodeMath.MultiplyAdd(low, mLow, a), lo, hi).Store(dst + j);
                    TBounds.Apply(DecodeMath.MultiplyAdd(high, mHigh, a), lo, hi).Store(dst + j + 8);
                }
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
                for (; j + 8 <= count && offset + 16 <= packed.Length; j += 8, offset += step)
                {
                    var block = Vector128.Load(src + offset);
                    var windows = (Ssse3.IsSupported ? Ssse3.Shuffle(block, shuffle) : AdvSimd.Arm64.VectorTableLookup(block, shuffle)).AsInt32();
                    var low = Vector128.ConvertToSingle(windows & maskLow);
                    var high = Vector128.ConvertToSingle(windows & maskHigh);
                    TBounds.Apply(DecodeMath.MultiplyAdd(low, mLow, a), lo, hi).Store(dst + j);
                    TBounds.Apply(DecodeMath.MultiplyAdd(high, mHigh, a), lo, hi).Store(dst + j + 4);
                }
            }
        }

        return j;
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
                for (; j + 8 <= count; j += 8)
                {
                    var values = Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(src + j));
                    TBounds.Apply(DecodeMath.MultiplyAdd(values, m, a), lo, hi).Store(dst + j);
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
}
