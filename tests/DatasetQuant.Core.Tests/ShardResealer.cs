using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Recomputes every checksum of a (damaged) shard from the fields it now holds, as a forger would, written from
/// docs/format.md §2–§7 rather than from the reader: the payload checksums (per block of samples in 2.0, per sample in
/// 1.x) where the index's widths and offsets still point inside the file, the index checksum, the header checksum,
/// and the footer's copy of it and its own checksum. What no longer has a place (a header too short, an index past
/// the end) is left as it is.
/// </summary>
internal static class ShardResealer
{
    private const int FooterSize = 24;

    public static byte[] Reseal(byte[] file)
    {
        if (file.Length < 64)
        {
            return file;
        }

        var span = file.AsSpan();
        int channels = BinaryPrimitives.ReadUInt16LittleEndian(span[16..]);
        var headerSize = 64 + (8 * channels) + 4;
        if (channels is < 1 or > 16 || file.Length < headerSize)
        {
            return file;
        }

        if (BinaryPrimitives.ReadUInt16LittleEndian(span[14..]) == 2)
        {
            ResealPlanes(span, headerSize);
        }
        else
        {
            ResealIndexAndPayload(span, headerSize);
        }

        var headerCrc = Crc32C.Compute(span[..(headerSize - 4)]);
        BinaryPrimitives.WriteUInt32LittleEndian(span[(headerSize - 4)..], headerCrc);
        if (file.Length >= headerSize + FooterSize)
        {
            var footer = span[^FooterSize..];
            BinaryPrimitives.WriteUInt32LittleEndian(footer[16..], headerCrc);
            BinaryPrimitives.WriteUInt32LittleEndian(footer[20..], Crc32C.Compute(footer[..20]));
        }

        return file;
    }

    private static void ResealIndexAndPayload(Span<byte> file, int headerSize)
    {
        var major = BinaryPrimitives.ReadUInt16LittleEndian(file[4..]);
        long count = BinaryPrimitives.ReadUInt32LittleEndian(file[28..]);
        var pixels = (long)BinaryPrimitives.ReadUInt16LittleEndian(file[16..]) * BinaryPrimitives.ReadUInt16LittleEndian(file[18..])
            * BinaryPrimitives.ReadUInt16LittleEndian(file[20..]);
        int labelBytes = BinaryPrimitives.ReadUInt16LittleEndian(file[12..]);
        int block = BinaryPrimitives.ReadUInt16LittleEndian(file[22..]);
        long indexLength = major switch
        {
            1 => 16 * count,
            2 when labelBytes is 1 or 2 && block > 0 => (count * (labelBytes + 3)) + ((count + 1) / 2) + (4 * ((count + block - 1) / block)),
            _ => -1,
        };
        var payloadAt = headerSize + indexLength + 4;
        if (indexLength < 0 || pixels == 0 || payloadAt + FooterSize > file.Length)
        {
            return;
        }

        var index = file.Slice(headerSize, (int)indexLength);
        var payload = file[(int)payloadAt..^FooterSize];
        if (major == 1)
        {
            for (var i = 0; i < count; i++)
            {
                var record = index.Slice(16 * i, 16);
                var offset = (long)BinaryPrimitives.ReadUInt32LittleEndian(record);
                var length = ((pixels * record[10]) + 7) / 8;
                if (offset + length <= payload.Length)
                {
                    BinaryPrimitives.WriteUInt32LittleEndian(record[12..], Crc32C.Compute(payload.Slice((int)offset, (int)length)));
                }
            }
        }
        else
        {
            var widths = (int)(count * (labelBytes + 3));
            var checksums = widths + (int)((count + 1) / 2);
            long at = 0;
            for (var first = 0L; first < count; first += block)
            {
                var start = at;
                for (var i = first; i < Math.Min(first + block, count); i++)
                {
                    at += ((pixels * ((index[widths + (int)(i / 2)] >> (int)(4 * (i % 2))) & 0x0F)) + 7) / 8;
                }

                if (at > payload.Length)
                {
                    break;
                }

                var slot = index.Slice(checksums + (int)(4 * (first / block)), 4);
                BinaryPrimitives.WriteUInt32LittleEndian(slot, Crc32C.Compute(payload.Slice((int)start, (int)(at - start))));
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(file[(headerSize + (int)indexLength)..], Crc32C.Compute(index));
    }

    /// <summary>
    /// Codec 2 (§14): the index is what the file's length leaves; block checksums follow the varints of the segment
    /// lengths, as far as they parse.
    /// </summary>
    private static void ResealPlanes(Span<byte> file, int headerSize)
    {
        long count = BinaryPrimitives.ReadUInt32LittleEndian(file[28..]);
        var payloadLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(file[56..]);
        int labelBytes = BinaryPrimitives.ReadUInt16LittleEndian(file[12..]);
        int block = BinaryPrimitives.ReadUInt16LittleEndian(file[22..]);
        var indexLength = file.Length - headerSize - 4 - payloadLength - FooterSize;
        var blocks = block > 0 ? (count + block - 1) / block : 0;
        var planesAt = count * (labelBytes + 2);
        var checksumsAt = planesAt + ((count + 1) / 2);
        var lengthsAt = checksumsAt + (4 * blocks) + 768;
        if (labelBytes is not (1 or 2) || block <= 0 || payloadLength < 0 || indexLength < lengthsAt)
        {
            return;
        }

        var index = file.Slice(headerSize, (int)indexLength);
        var payload = file.Slice(headerSize + (int)indexLength + 4, (int)payloadLength);
        var position = (int)lengthsAt;
        long at = 0, start = 0;
        for (var i = 0L; i < count; i++)
        {
            var planes = (index[(int)(planesAt + (i / 2))] >> (int)(4 * (i % 2))) & 0x0F;
            for (var k = 0; k < planes; k++)
            {
                long value = 0;
                for (var shift = 0; position < index.Length; shift += 7)
                {
                    var b = index[position++];
                    value |= (long)(b & 0x7F) << Math.Min(shift, 56);
                    if ((b & 0x80) == 0)
                    {
                        break;
                    }
                }

                at += value;
            }

            if ((i + 1) % block == 0 || i + 1 == count)
            {
                if (at > payload.Length || start > at)
                {
                    break;
                }

                var slot = index.Slice((int)(checksumsAt + (4 * (i / block))), 4);
                BinaryPrimitives.WriteUInt32LittleEndian(slot, Crc32C.Compute(payload.Slice((int)start, (int)(at - start))));
                start = at;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(file[(headerSize + (int)indexLength)..], Crc32C.Compute(index));
    }
}
