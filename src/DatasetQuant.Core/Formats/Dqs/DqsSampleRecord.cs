using System.Buffers.Binary;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// One 16-byte index record (docs/format.md §4): where a sample's codes are, their width, scale, centre shift, label and
/// checksum.
/// </summary>
public readonly record struct DqsSampleRecord(uint Offset, float Scale, int Label, int Bits, int Shift, uint Checksum)
{
    /// <summary>The quantizer the codes were made with.</summary>
    public QuantizationParameters Parameters => new(Scale, Shift);

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, Offset);
        BinaryPrimitives.WriteSingleLittleEndian(destination[4..], Scale);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[8..], (ushort)Label);
        destination[10] = (byte)Bits;
        destination[11] = (byte)(sbyte)Shift;
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], Checksum);
    }

    /// <summary>Reads record <paramref name="sample"/> without checks (the reader checked the whole index when it opened).</summary>
    public static DqsSampleRecord Read(ReadOnlySpan<byte> source) => new(
        BinaryPrimitives.ReadUInt32LittleEndian(source),
        BinaryPrimitives.ReadSingleLittleEndian(source[4..]),
        BinaryPrimitives.ReadUInt16LittleEndian(source[8..]),
        source[10],
        (sbyte)source[11],
        BinaryPrimitives.ReadUInt32LittleEndian(source[12..]));

    /// <summary>Reads and checks record <paramref name="sample"/>, whose payload must start at <paramref name="expectedOffset"/>.</summary>
    public static DqsSampleRecord ReadChecked(ReadOnlySpan<byte> source, in DqsHeader header, int sample, uint expectedOffset, string path)
    {
        var record = Read(source);
        if (record.Bits is < 1 or > 8)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "bits", $"{record.Bits} is outside 1..8.");
        }

        if (record.Label >= header.ClassCount)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "label", $"{record.Label} is outside [0, {header.ClassCount}).");
        }

        if (!(record.Scale > 0f) || float.IsInfinity(record.Scale))
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "scale", $"{record.Scale} is not a positive finite number.");
        }

        if (record.Offset != expectedOffset)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "offset", $"{record.Offset} but the samples before it end at {expectedOffset}.");
        }

        return record;
    }
}
