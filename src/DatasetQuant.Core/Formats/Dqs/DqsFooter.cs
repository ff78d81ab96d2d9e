using System.Buffers.Binary;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>The 24-byte footer (docs/format.md §5): proof that the file was written to its end.</summary>
internal static class DqsFooter
{
    public static void Write(Span<byte> destination, int sampleCount, long fileLength, uint headerChecksum)
    {
        DqsConstants.FooterMagic.CopyTo(destination);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], (uint)sampleCount);
        BinaryPrimitives.WriteUInt64LittleEndian(destination[8..], (ulong)fileLength);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[16..], headerChecksum);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[20..], Crc32C.Compute(destination[..20]));
    }

    public static void Check(ReadOnlySpan<byte> footer, in DqsHeader header, long fileLength, uint headerChecksum, string path)
    {
        var recorded = BinaryPrimitives.ReadUInt32LittleEndian(footer[20..]);
        var actual = Crc32C.Compute(footer[..20]);
        if (actual != recorded)
        {
            DqsThrowHelper.ThrowInvalidFooter(path, "checksum", $"CRC32C is {actual:X8} but the footer records {recorded:X8}: the footer is damaged.");
        }

        if (!footer[..4].SequenceEqual(DqsConstants.FooterMagic))
        {
            DqsThrowHelper.ThrowInvalidFooter(path, "magic", $"{Convert.ToHexString(footer[..4])} is not the footer magic 44515345.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[4..]) != (uint)header.SampleCount)
        {
            DqsThrowHelper.ThrowInvalidFooter(path, "sampleCount", $"{BinaryPrimitives.ReadUInt32LittleEndian(footer[4..])} differs from the header's {header.SampleCount}.");
        }

        if (BinaryPrimitives.ReadUInt64LittleEndian(footer[8..]) != (ulong)fileLength)
        {
            DqsThrowHelper.ThrowInvalidFooter(path, "fileLength", $"{BinaryPrimitives.ReadUInt64LittleEndian(footer[8..])} differs from the file's {fileLength} bytes.");
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(footer[16..]) != headerChecksum)
        {
            DqsThrowHelper.ThrowInvalidFooter(path, "headerChecksum", "does not match the header: footer and header come from different files.");
        }
    }
}
