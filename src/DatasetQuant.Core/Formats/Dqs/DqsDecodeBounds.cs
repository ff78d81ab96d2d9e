using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// The clamp to [min, max] that ends each decoded value. The decoder picks, once per call, the variant that clamps only
/// the sides a code can actually cross (the affine map is monotone, so codes 0 and 2^b − 1 bound it): on Fashion-MNIST
/// the lowest codes of nearly every sample fall below pixel 0 but no code ever exceeds 255, and a clamp not taken costs
/// one vector instruction per 8 pixels. Each variant is a struct so the kernels are compiled once per variant.
/// </summary>
internal interface IDecodeBounds
{
    static abstract Vector256<float> Apply(Vector256<float> value, Vector256<float> min, Vector256<float> max);

    static abstract Vector128<float> Apply(Vector128<float> value, Vector128<float> min, Vector128<float> max);
}

internal readonly struct ClampNone : IDecodeBounds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> value, Vector256<float> min, Vector256<float> max) => value;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Apply(Vector128<float> value, Vector128<float> min, Vector128<float> max) => value;
}

internal readonly struct ClampLow : IDecodeBounds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> value, Vector256<float> min, Vector256<float> max) => DecodeMath.Max(value, min);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Apply(Vector128<float> value, Vector128<float> min, Vector128<float> max) => DecodeMath.Max(value, min);
}

internal readonly struct ClampHigh : IDecodeBounds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> value, Vector256<float> min, Vector256<float> max) => DecodeMath.Min(value, max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Apply(Vector128<float> value, Vector128<float> min, Vector128<float> max) => DecodeMath.Min(value, max);
}

internal readonly struct ClampBoth : IDecodeBounds
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Apply(Vector256<float> value, Vector256<float> min, Vector256<float> max) => DecodeMath.Min(DecodeMath.Max(value, min), max);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Apply(Vector128<float> value, Vector128<float> min, Vector128<float> max) => DecodeMath.Min(DecodeMath.Max(value, min), max);
}

/// <summary>Single instructions for the decoder's arithmetic where the platform has them.</summary>
internal static class DecodeMath
{
    // Avx.Min/Max are one instruction each; Vector256.Min/Max add NaN and signed-zero fix-ups that codes never need.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Max(Vector256<float> x, Vector256<float> y) => Avx.Max(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Min(Vector256<float> x, Vector256<float> y) => Avx.Min(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Max(Vector128<float> x, Vector128<float> y) =>
        Sse.IsSupported ? Sse.Max(x, y) : AdvSimd.IsSupported ? AdvSimd.Max(x, y) : Vector128.Max(x, y);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Min(Vector128<float> x, Vector128<float> y) =>
        Sse.IsSupported ? Sse.Min(x, y) : AdvSimd.IsSupported ? AdvSimd.Min(x, y) : Vector128.Min(x, y);

    /// <summary>x·m + a, fused where the hardware can (then it equals <see cref="MathF.FusedMultiplyAdd"/> exactly).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MultiplyAdd(Vector256<float> x, Vector256<float> m, Vector256<float> a) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, m, a) : (x * m) + a;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> MultiplyAdd(Vector128<float> x, Vector128<float> m, Vector128<float> a) =>
        Fma.IsSupported ? Fma.MultiplyAdd(x, m, a)
        : AdvSimd.IsSupported ? AdvSimd.FusedMultiplyAdd(a, x, m)
        : (x * m) + a;
}
