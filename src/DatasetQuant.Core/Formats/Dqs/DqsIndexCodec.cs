using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Reads and writes index entries of both layouts (docs/format.md §4). Version 1: record i is 16 bytes at 16·i (offset,
/// f32 scale, label, bits, shift, the payload's CRC32C). Version 2: columns for the shard's n samples (labels, binary16
/// scales, shifts, 4-bit widths low nibble first), then one CRC32C per block of samples.
/// </summary>
internal static class DqsIndexCodec
{
    public static void WriteVersion1(Span<byte> index, int sample, in DqsSampleRecord record, uint checksum)
    {
        var d = index.Slice(sample * DqsConstants.Version1RecordSize, DqsConstants.Version1RecordSize);
        BinaryPrimitives.WriteUInt32LittleEndian(d, record.Offset);
        BinaryPrimitives.WriteSingleLittleEndian(d[4..], record.Scale);
        BinaryPrimitives.WriteUInt16LittleEndian(d[8..], (ushort)record.Label);
        d[10] = (byte)record.Bits;
        d[11] = (byte)(sbyte)record.Shift;
        BinaryPrimitives.WriteUInt32LittleEndian(d[12..], checksum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DqsSampleRecord ReadVersion1(ReadOnlySpan<byte> index, int sample)
    {
        var s = index.Slice(sample * DqsConstants.Version1RecordSize, DqsConstants.Version1RecordSize);
        return new DqsSampleRecord(
            BinaryPrimitives.ReadUInt32LittleEndian(s),
            BinaryPrimitives.ReadSingleLittleEndian(s[4..]),
            BinaryPrimitives.ReadUInt16LittleEndian(s[8..]),
            s[10],
            (sbyte)s[11]);
    }

    public static uint Version1Checksum(ReadOnlySpan<byte> index, int sample) =>
        BinaryPrimitives.ReadUInt32LittleEndian(index[((sample * DqsConstants.Version1RecordSize) + 12)..]);

    /// <summary>Writes sample <paramref name="sample"/>'s columns; the scale must be exact in binary16 (<see cref="DqsScale.IsExact"/>).</summary>
    public static void WriteVersion2(Span<byte> index, in DqsIndexLayout layout, int count, int sample, int label, int bits, QuantizationParameters parameters)
    {
        if (layout.LabelBytes == 1)
        {
            index[sample] = (byte)label;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(index[(sample * 2)..], (ushort)label);
        }

        BinaryPrimitives.WriteHalfLittleEndian(index[(int)(layout.ScalesAt(count) + (sample * 2L))..], (Half)parameters.Scale);
        index[(int)layout.ShiftsAt(count) + sample] = (byte)(sbyte)parameters.Shift;
        ref var nibbles = ref index[(int)layout.WidthsAt(count) + (sample >> 1)];
        nibbles = (byte)((sample & 1) == 0 ? (nibbles & 0xF0) | bits : (nibbles & 0x0F) | (bits << 4));
    }

    /// <summary>Sample <paramref name="sample"/>'s entry; its offset is the reader's running sum.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static DqsSampleRecord ReadVersion2(ReadOnlySpan<byte> index, in DqsIndexLayout layout, int count, int sample, uint offset)
    {
        var label = layout.LabelBytes == 1 ? index[sample] : BinaryPrimitives.ReadUInt16LittleEndian(index[(sample * 2)..]);
        var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(index[(int)(layout.ScalesAt(count) + (sample * 2L))..]);
        var shift = (sbyte)index[(int)layout.ShiftsAt(count) + sample];
        return new DqsSampleRecord(offset, scale, label, Version2Bits(index, layout, count, sample), shift);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Version2Bits(ReadOnlySpan<byte> index, in DqsIndexLayout layout, int count, int sample) =>
        (index[(int)layout.WidthsAt(count) + (sample >> 1)] >> ((sample & 1) << 2)) & 0x0F;

    public static Span<byte> Version2BlockChecksumSlot(Span<byte> index, in DqsIndexLayout layout, int count, int block) =>
        index.Slice((int)layout.BlockChecksumsAt(count) + (block * DqsConstants.ChecksumSize), DqsConstants.ChecksumSize);

    public static uint Version2BlockChecksum(ReadOnlySpan<byte> index, in DqsIndexLayout layout, int count, int block) =>
        BinaryPrimitives.ReadUInt32LittleEndian(index[((int)layout.BlockChecksumsAt(count) + (block * DqsConstants.ChecksumSize))..]);

    /// <summary>Checks an entry's fields (width, label, scale) as the reader does on open; offsets are checked by the caller.</summary>
    public static void Check(in DqsSampleRecord record, in DqsHeader header, int sample, string path)
    {
        if (record.Bits is < 1 or > 8)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "bits", $"{record.Bits} is outside 1..8.");
        }

        if (record.Label >= header.ClassCount)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "label", $"{record.Label} is outside [0, {header.ClassCount}).");
        }

        if (!(record.Scale > 0f && record.Scale <= DqsConstants.MaxScale))
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "scale", $"{record.Scale} is not a positive number at most {DqsConstants.MaxScale}.");
        }
    }
}
