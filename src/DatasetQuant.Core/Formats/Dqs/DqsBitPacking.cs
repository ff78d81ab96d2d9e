namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// The bit stream of docs/format.md §4: code j of a sample occupies stream bits [j·b, j·b + b), least significant bit
/// first, and stream bit k is bit (k mod 8) of byte ⌊k/8⌋. Padding bits of the last byte are zero.
/// </summary>
public static class DqsBitPacking
{
    /// <summary>Packs <paramref name="codes"/> (each &lt; 2^bits) into <paramref name="destination"/> (exactly ceil(n·bits/8) bytes are written).</summary>
    public static void Pack(ReadOnlySpan<byte> codes, int bits, Span<byte> destination)
    {
        var length = (int)(((long)codes.Length * bits + 7) >> 3);
        if (destination.Length < length)
        {
            throw new ArgumentException($"{codes.Length} codes of {bits} bits need {length} bytes; the destination has {destination.Length}.", nameof(destination));
        }

        if (bits == 8)
        {
            codes.CopyTo(destination);
            return;
        }

        ulong accumulator = 0;
        var filled = 0;
        var written = 0;
        var mask = (1u << bits) - 1;
        foreach (var code in codes)
        {
            accumulator |= (ulong)(code & mask) << filled;
            filled += bits;
            if (filled >= 32)
            {
                for (var k = 0; k < 4; k++)
                {
                    destination[written++] = (byte)accumulator;
                    accumulator >>= 8;
                }

                filled -= 32;
            }
        }

        while (filled > 0)
        {
            destination[written++] = (byte)accumulator;
            accumulator >>= 8;
            filled -= 8;
        }
    }

    /// <summary>Unpacks <paramref name="codes"/>.Length codes starting at code <paramref name="firstCode"/> of the stream.</summary>
    public static void Unpack(ReadOnlySpan<byte> packed, int bits, int firstCode, Span<byte> codes)
    {
        var mask = (1 << bits) - 1;
        long position = (long)firstCode * bits;
        for (var j = 0; j < codes.Length; j++, position += bits)
        {
            codes[j] = (byte)((Window(packed, (int)(position >> 3)) >> (int)(position & 7)) & mask);
        }
    }

    /// <summary>The code at index <paramref name="code"/> of the stream.</summary>
    public static int CodeAt(ReadOnlySpan<byte> packed, int bits, int code)
    {
        var position = (long)code * bits;
        return (Window(packed, (int)(position >> 3)) >> (int)(position & 7)) & ((1 << bits) - 1);
    }

    /// <summary>The 16 bits starting at byte <paramref name="index"/> (a code never spans more than two bytes).</summary>
    internal static int Window(ReadOnlySpan<byte> packed, int index) =>
        index + 1 < packed.Length ? packed[index] | (packed[index + 1] << 8) : packed[index];
}
