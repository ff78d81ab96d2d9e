using System.Runtime.CompilerServices;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Version 2 stores a sample's scale as an IEEE 754 binary16, and a decoder uses exactly the stored value, so an
/// encoder fits its codes with scales binary16 holds exactly (11 significant bits: at most 2^−12 relative rounding of a
/// fitted scale, which the fit then scores as it is). Multiplying by a power of two keeps a scale exact (re-quantizing
/// and embedded codes only do that) while it stays within binary16's range.
/// </summary>
public static class DqsScale
{
    /// <summary>The nearest scale binary16 holds (round to nearest even).</summary>
    public static float Round(float scale) => (float)(Half)scale;

    /// <summary>
    /// The binary32 value of a stored binary16 (exact): normal numbers by moving exponent and fraction, which the decode
    /// loop does per sample; zero, subnormals, infinities and NaN (refused on open) through <see cref="Half"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ToSingle(ushort bits)
    {
        var exponent = bits & 0x7C00;
        return exponent is 0 or 0x7C00
            ? (float)BitConverter.UInt16BitsToHalf(bits)
            : BitConverter.Int32BitsToSingle(((bits & 0x8000) << 16) | (((bits & 0x7FFF) + 0x1C000) << 13));
    }

    /// <summary>Whether a version 2 index can store <paramref name="scale"/> without changing it.</summary>
    public static bool IsExact(float scale) => scale > 0f && float.IsFinite(scale) && (float)(Half)scale == scale;
}
