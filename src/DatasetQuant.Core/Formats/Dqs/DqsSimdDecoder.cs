using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Turns a bit-packed code stream into float32 in one pass: out = clamp(code·multiplier + addend, min, max), which is
/// the dequantization and the caller's normalisation folded into one affine map. Widths 1..7 gather each code's two
/// bytes with one byte shuffle per 8 codes, shift each 16-bit lane into place with a multiply (a per-lane left shift)
/// and one common right shift; width 8 widens bytes directly. Vector256 (AVX2) or Vector128 (SSSE3, Arm64), then a
/// scalar tail; with hardware intrinsics off the scalar loop does everything.
/// </summary>
public static class DqsSimdDecoder
{
    // Per width b: a 32-byte shuffle control (low lane: group of 8 codes at byte 0; high lane: next group at byte b)
    // and 16 u16 multipliers 2^(16 − b − shift_j).
    private static readonly byte[] Controls = BuildControls();
    private static readonly ushort[] Multipliers = BuildMultipliers();

    /// <summary>
    /// Decodes destination.Length codes starting at code <paramref name="firstCode"/> of <paramref name="packed"/> (the
    /// whole stream of one sample).
    /// </summary>
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

        var consumed = bits == 8 ? DecodeBytes(packed[code..], destination[j..], multiplier, addend, min, max)
            : DecodePacked(packed[(code / 8 * bits)..], bits, destination[j..], multiplier, addend, min, max);
        j += consumed;
        code += consumed;
        for (; j < count; j++, code++)
        {
            destination[j] = Scalar(packed, bits, code, multiplier, addend, min, max);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Scalar(ReadOnlySpan<byte> packed, int bits, int code, float multiplier, float addend, float min, float max)
    {
        var value = MathF.FusedMultiplyAdd(DqsBitPacking.CodeAt(packed, bits, code), multiplier, addend);
        return MathF.Min(MathF.Max(value, min), max);
    }

    /// <summary>Width 8: each byte is a code. Returns how many codes were decoded.</summary>
    private static unsafe int DecodeBytes(ReadOnlySpan<byte> packed, Span<float> destination, float multiplier, float addend, float min, float max)
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
                    Affine(values, m, a, lo, hi).Store(dst + j);
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
                    var bytes = Vector128.Load(src + j);
                    var (w0, w1) = Vector128.Widen(bytes);
                    var (d0, d1) = Vector128.Widen(w0);
                    var (d2, d3) = Vector128.Widen(w1);
                    Affine(Vector128.ConvertToSingle(d0.AsInt32()), m, a, lo, hi).Store(dst + j);
                    Affine(Vector128.ConvertToSingle(d1.AsInt32()), m, a, lo, hi).Store(dst + j + 4);
                    Affine(Vector128.ConvertToSingle(d2.AsInt32()), m, a, lo, hi).Store(dst + j + 8);
                    Affine(Vector128.ConvertToSingle(d3.AsInt32()), m, a, lo, hi).Store(dst + j + 12);
                }
            }
        }

        return j;
    }

    /// <summary>Widths 1..7 from a stream positioned at a group of 8 codes. Returns how many codes were decoded.</summary>
    private static unsafe int DecodePacked(ReadOnlySpan<byte> packed, int bits, Span<float> destination, float multiplier, float addend, float min, float max)
    {
        var count = destination.Length;
        var j = 0;
        var offset = 0;
        var shift = 16 - bits;
        fixed (byte* src = packed)
        fixed (float* dst = destination)
        fixed (byte* controls = Controls)
        fixed (ushort* multipliers = Multipliers)
        {
            if (Avx2.IsSupported)
            {
                var control = Vector256.Load(controls + 32 * bits);
                var lanes = Vector256.Load(multipliers + 16 * bits);
                var m = Vector256.Create(multiplier);
                var a = Vector256.Create(addend);
                var lo = Vector256.Create(min);
                var hi = Vector256.Create(max);
                for (; j + 16 <= count && offset + 16 <= packed.Length; j += 16, offset += 2 * bits)
                {
                    var block = Vector128.Load(src + offset);
                    var windows = Avx2.Shuffle(Vector256.Create(block, block), control).AsUInt16();
                    var codes = Vector256.ShiftRightLogical(windows * lanes, shift);
                    var (low, high) = Vector256.Widen(codes);
                    Affine(Vector256.ConvertToSingle(low.AsInt32()), m, a, lo, hi).Store(dst + j);
                    Affine(Vector256.ConvertToSingle(high.AsInt32()), m, a, lo, hi).Store(dst + j + 8);
                }
            }
            else if (Ssse3.IsSupported || AdvSimd.Arm64.IsSupported)
            {
                var control = Vector128.Load(controls + 32 * bits);
                var lanes = Vector128.Load(multipliers + 16 * bits);
                var m = Vector128.Create(multiplier);
                var a = Vector128.Create(addend);
                var lo = Vector128.Create(min);
                var hi = Vector128.Create(max);
                for (; j + 8 <= count && offset + 16 <= packed.Length; j += 8, offset += bits)
                {
                    var block = Vector128.Load(src + offset);
                    var gathered = Ssse3.IsSupported ? Ssse3.Shuffle(block, control) : AdvSimd.Arm64.VectorTableLookup(block, control);
                    var codes = Vector128.ShiftRightLogical(gathered.AsUInt16() * lanes, shift);
                    var (low, high) = Vector128.Widen(codes);
                    Affine(Vector128.ConvertToSingle(low.AsInt32()), m, a, lo, hi).Store(dst + j);
                    Affine(Vector128.ConvertToSingle(high.AsInt32()), m, a, lo, hi).Store(dst + j + 4);
                }
            }
        }

        return j;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Affine(Vector256<float> x, Vector256<float> m, Vector256<float> a, Vector256<float> lo, Vector256<float> hi)
    {
        var y = Fma.IsSupported ? Fma.MultiplyAdd(x, m, a) : (x * m) + a;
        return Vector256.Min(Vector256.Max(y, lo), hi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<float> Affine(Vector128<float> x, Vector128<float> m, Vector128<float> a, Vector128<float> lo, Vector128<float> hi)
    {
        var y = Fma.IsSupported ? Fma.MultiplyAdd(x, m, a)
            : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(a, x, m)
            : (x * m) + a;
        return Vector128.Min(Vector128.Max(y, lo), hi);
    }

    private static byte[] BuildControls()
    {
        var controls = new byte[32 * 9];
        for (var bits = 1; bits <= 7; bits++)
        {
            for (var lane = 0; lane < 2; lane++)
            {
                for (var j = 0; j < 8; j++)
                {
                    var at = lane * bits + (j * bits >> 3);
                    controls[32 * bits + 16 * lane + 2 * j] = (byte)at;
                    controls[32 * bits + 16 * lane + 2 * j + 1] = (byte)(at + 1);
                }
            }
        }

        return controls;
    }

    private static ushort[] BuildMultipliers()
    {
        var multipliers = new ushort[16 * 9];
        for (var bits = 1; bits <= 7; bits++)
        {
            for (var k = 0; k < 16; k++)
            {
                var shift = (k % 8) * bits & 7;
                multipliers[16 * bits + k] = (ushort)(1 << (16 - bits - shift));
            }
        }

        return multipliers;
    }

    /// <summary>For tests and benchmarks: which path <see cref="Decode"/> takes on this machine.</summary>
    public static string Path => Avx2.IsSupported ? "Vector256 (AVX2)" : Ssse3.IsSupported ? "Vector128 (SSSE3)" : AdvSimd.Arm64.IsSupported ? "Vector128 (Arm64)" : "scalar";

    internal static ReadOnlySpan<byte> ControlsFor(int bits) => MemoryMarshal.CreateReadOnlySpan(ref Controls[32 * bits], 32);
}
