namespace DatasetQuant.Core.IO;

/// <summary>
/// Unsigned LEB128 of 32-bit values, as the layers, held increments and planes shards store counts and lengths
/// (docs/format.md §13, §14): 7 bits a byte, least significant first, the high bit set on every byte but the last, at
/// most <see cref="MaxBytes"/> bytes.
/// </summary>
public static class Leb128
{
    /// <summary>A u32 needs at most 5 bytes; a longer run is a defect, not a larger number.</summary>
    public const int MaxBytes = 5;

    public static int Size(uint value)
    {
        var size = 1;
        for (; value >= 0x80; value >>= 7)
        {
            size++;
        }

        return size;
    }

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="span"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> span, uint value)
    {
        var at = 0;
        for (; value >= 0x80; value >>= 7)
        {
            span[at++] = (byte)(value | 0x80);
        }

        span[at++] = (byte)value;
        return at;
    }

    /// <summary>Reads a value ending before <paramref name="end"/>; null when it runs past it, past 5 bytes or past 32 bits.</summary>
    public static uint? Read(ReadOnlySpan<byte> span, ref int at, int end)
    {
        ulong value = 0;
        for (var k = 0; k < MaxBytes && at < end; k++)
        {
            var b = span[at++];
            value |= (ulong)(b & 0x7F) << (7 * k);
            if ((b & 0x80) == 0)
            {
                return value <= uint.MaxValue ? (uint)value : null;
            }
        }

        return null;
    }
}
