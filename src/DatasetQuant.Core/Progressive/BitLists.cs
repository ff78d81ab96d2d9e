using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The bit lists of held increments versions 2–4 and of layer version 5's directory (docs/format.md §13), LSB first: a
/// width step is one bit 0 for a step of 1, else a 1 and the step less two in three bits; a Rice code of parameter k is
/// the value shifted right by k as that many 1 bits and a 0, then the value's k low bits.
/// </summary>
internal ref struct BitListWriter(Span<byte> span)
{
    private readonly Span<byte> _span = span;
    private long _bits;

    public readonly int BytesWritten => (int)((_bits + 7) / 8);

    /// <summary>What <see cref="WriteStep"/> writes for <paramref name="step"/>.</summary>
    public static int StepBits(int step) => step == 1 ? 1 : 4;

    /// <summary>What <see cref="WriteRice"/> writes for <paramref name="value"/> with parameter <paramref name="k"/>.</summary>
    public static int RiceBits(int value, int k) => (value >> k) + 1 + k;

    /// <summary>The Rice parameter a writer picks given the bits each would take: the fewest, the smallest on a tie.</summary>
    public static int FewestBits(ReadOnlySpan<long> bitsByParameter)
    {
        var best = 0;
        for (var k = 1; k < bitsByParameter.Length; k++)
        {
            best = bitsByParameter[k] < bitsByParameter[best] ? k : best;
        }

        return best;
    }

    public void WriteStep(int step)
    {
        Write(step == 1 ? 0 : 1, 1);
        if (step != 1)
        {
            Write(step - 2, 3);
        }
    }

    public void WriteRice(int value, int k)
    {
        for (var q = value >> k; q > 0; q--)
        {
            Write(1, 1);
        }

        Write(0, 1);
        Write(value & ((1 << k) - 1), k);
    }

    public void Write(int value, int count)
    {
        for (var b = 0; b < count; b++, _bits++)
        {
            _span[(int)(_bits >> 3)] |= (byte)(((value >> b) & 1) << (int)(_bits & 7));
        }
    }
}

/// <summary>
/// Reads what <see cref="BitListWriter"/> wrote, up to <paramref name="end"/>; every overrun is a
/// <see cref="DqsFormatException"/> naming the file <paramref name="name"/> and the field.
/// </summary>
internal struct BitListReader(byte[] bytes, int start, int end, string name)
{
    private long _bit = (long)start * 8;

    /// <summary>Where the bits end: the byte after the last one read from.</summary>
    public readonly int End => (int)((_bit + 7) / 8);

    /// <summary>Whether the bits after the last one read, up to its byte's end, are zero (as §13 says they are written).</summary>
    public readonly bool PaddingIsZero => (_bit & 7) == 0 || (bytes[(int)(_bit >> 3)] >> (int)(_bit & 7)) == 0;

    public int ReadStep(string field) => Read(field, 1) == 0 ? 1 : Read(field, 3) + 2;

    /// <summary>
    /// A Rice code of parameter <paramref name="k"/> whose value is at most <paramref name="bound"/>: a longer one is a
    /// defect, read no further. <paramref name="what"/> and <paramref name="item"/> (an entry or sample) name it in the
    /// message, which is built only then: a layer reads several codes per entry.
    /// </summary>
    public int ReadRice(string field, int k, long bound, string what, int item)
    {
        var q = 0L;
        while (Read(field, 1) == 1)
        {
            if (++q > bound >> k)
            {
                throw Defect(field, $"{what} {item} runs past {bound}, the most it can be here.");
            }
        }

        var value = (q << k) | (long)Read(field, k);
        return value <= bound ? (int)value : throw Defect(field, $"{what} {item}, {value}, runs past {bound}, the most it can be here.");
    }

    public int Read(string field, int count)
    {
        var value = 0;
        for (var b = 0; b < count; b++, _bit++)
        {
            if (_bit >= (long)end * 8)
            {
                throw Defect(field, "the bit lists run past their end.");
            }

            value |= ((bytes[(int)(_bit >> 3)] >> (int)(_bit & 7)) & 1) << b;
        }

        return value;
    }

    private readonly DqsFormatException Defect(string field, string message) => new(name, field, null, message);
}
