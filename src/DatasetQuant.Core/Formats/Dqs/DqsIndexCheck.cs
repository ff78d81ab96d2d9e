namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// What a reader checks of the index when it opens a shard (docs/format.md §8, step 5), and the payload offsets it
/// derives on the way: version 2 stores none, and version 1's stored ones must equal the running sum.
/// </summary>
internal static class DqsIndexCheck
{
    /// <summary>Checks the index checksum and every entry; returns each sample's payload offset (the running sum of its predecessors' sizes).</summary>
    public static uint[] Offsets(ReadOnlySpan<byte> index, uint recordedChecksum, in DqsHeader header, string path)
    {
        var count = header.SampleCount;
        var layout = header.Layout;
        var actual = Crc32C.Compute(index);
        if (actual != recordedChecksum)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, $"CRC32C is {actual:X8} but the file records {recordedChecksum:X8}: the index is damaged.");
        }

        if (layout.VersionMajor == 2 && (count & 1) == 1 && index[(int)layout.WidthsAt(count) + (count >> 1)] >> 4 != 0)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, "the unused high half of the last widths byte is not zero.");
        }

        // The header's length check bounds count by the file's length (at least 4 index bytes per sample), so this
        // array is never larger than the file.
        var offsets = new uint[count];
        long offset = 0;
        for (var i = 0; i < count; i++)
        {
            var record = layout.VersionMajor == 1
                ? DqsIndexCodec.ReadVersion1(index, i)
                : DqsIndexCodec.ReadVersion2(index, layout, count, i, (uint)offset);
            DqsIndexCodec.Check(record, header, i, path);
            if (record.Offset != offset)
            {
                DqsThrowHelper.ThrowInvalidRecord(path, i, "offset", $"{record.Offset} but the samples before it end at {offset}.");
            }

            offsets[i] = (uint)offset;
            offset += ((long)header.PixelsPerSample * record.Bits + 7) >> 3;
            if (offset > header.PayloadLength)
            {
                DqsThrowHelper.ThrowInvalidRecord(path, i, "bits", $"the samples up to this one need {offset} payload bytes but the header declares {header.PayloadLength}.");
            }
        }

        if (offset != header.PayloadLength)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength", $"{header.PayloadLength} bytes but the index describes {offset}.");
        }

        return offsets;
    }
}
