namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Constants of the packed-code kernels of <see cref="DqsSimdDecoder"/> for widths 1..7. A group of 2·L codes (L int32
/// lanes: 8 for Vector256, 4 for Vector128) is gathered with one byte shuffle: lane i receives, in its low 16 bits, the
/// two bytes that hold code i and, in its high 16 bits, the two bytes that hold code L + i. A code is then isolated
/// with a mask, left where it lies (at bit s of the lane), converted to float as code·2^s, and the 2^−s is folded into
/// that lane's multiplier. No per-lane shift is executed, and the result is exactly fma(code, m, a): multiplying a
/// float by a power of two is exact, so code·2^s · (m·2^−s) is the same real product as code · m.
/// </summary>
internal sealed class DqsDecodeLayout
{
    private DqsDecodeLayout(int bits, int lanes)
    {
        Bits = bits;
        Lanes = lanes;
        // One 16-byte block feeds each half of a Vector256 (broadcast), so both halves index the same 16 bytes.
        Control = new byte[4 * lanes];
        LowMask = new uint[lanes];
        HighMask = new uint[lanes];
        LowScale = new float[lanes];
        HighScale = new float[lanes];
        var codeMask = (1u << bits) - 1;
        for (var i = 0; i < lanes; i++)
        {
            var low = i * bits;
            var high = (lanes + i) * bits;
            Control[4 * i] = (byte)(low >> 3);
            Control[4 * i + 1] = (byte)((low >> 3) + 1);
            Control[4 * i + 2] = (byte)(high >> 3);
            Control[4 * i + 3] = (byte)((high >> 3) + 1);
            LowMask[i] = codeMask << (low & 7);
            HighMask[i] = codeMask << (16 + (high & 7));
            LowScale[i] = MathF.ScaleB(1f, -(low & 7));
            HighScale[i] = MathF.ScaleB(1f, -(16 + (high & 7)));
        }
    }

    public int Bits { get; }

    /// <summary>int32 lanes per vector; a group is 2·Lanes codes and spans 2·Lanes·Bits/8 = Lanes·Bits/4 bytes.</summary>
    public int Lanes { get; }

    /// <summary>Bytes one group advances in the stream.</summary>
    public int GroupBytes => Lanes * Bits / 4;

    /// <summary>Byte shuffle control: 4 bytes per lane (window of the low code, window of the high code).</summary>
    public byte[] Control { get; }

    /// <summary>Per lane: where the lane's first code lies in its low half.</summary>
    public uint[] LowMask { get; }

    /// <summary>Per lane: where the lane's second code lies in its high half (bit 30 at most: the value stays positive).</summary>
    public uint[] HighMask { get; }

    /// <summary>Per lane: 2^−(bit position of the first code).</summary>
    public float[] LowScale { get; }

    /// <summary>Per lane: 2^−(bit position of the second code).</summary>
    public float[] HighScale { get; }

    /// <summary>Layouts for widths 0..8 (null outside 1..7) with 8 lanes (Vector256).</summary>
    public static readonly DqsDecodeLayout?[] Wide = Build(8);

    /// <summary>Layouts for widths 0..8 (null outside 1..7) with 4 lanes (Vector128).</summary>
    public static readonly DqsDecodeLayout?[] Narrow = Build(4);

    private static DqsDecodeLayout?[] Build(int lanes)
    {
        var layouts = new DqsDecodeLayout?[9];
        for (var bits = 1; bits <= 7; bits++)
        {
            layouts[bits] = new DqsDecodeLayout(bits, lanes);
        }

        return layouts;
    }
}
