using System.Buffers.Binary;
using System.Text;

namespace DatasetQuant.Sync.Chunks;

/// <summary>
/// Parses and checks chunk frames. Never throws on bad input: returns false with the reason (the caller logs it and
/// drops the frame). The payload is only returned when both CRCs match.
/// </summary>
public static class ChunkFrameReader
{
    public static bool TryRead(ReadOnlyMemory<byte> frame, out ChunkFrameHeader header, out ReadOnlyMemory<byte> payload, out string error)
    {
        header = default;
        payload = default;
        var span = frame.Span;
        if (span.Length < ChunkFrameConstants.FixedHeaderSize)
        {
            error = $"frame of {span.Length} bytes is shorter than the {ChunkFrameConstants.FixedHeaderSize}-byte header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span) != ChunkFrameConstants.Magic)
        {
            error = $"bad magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(span):X8}";
            return false;
        }

        if (span[4] != ChunkFrameConstants.Version)
        {
            error = $"frame version {span[4]} is not supported (expected {ChunkFrameConstants.Version})";
            return false;
        }

        int nameLength = span[6];
        var manifestVersion = BinaryPrimitives.ReadInt64LittleEndian(span[8..]);
        var shardId = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var length = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        var offset = BinaryPrimitives.ReadInt64LittleEndian(span[24..]);
        var payloadCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[32..]);
        var headerCrc = BinaryPrimitives.ReadUInt32LittleEndian(span[36..]);

        if (nameLength is 0 or > SyncNames.MaxLength)
        {
            error = $"dataset name length {nameLength} is out of range 1..{SyncNames.MaxLength}";
            return false;
        }

        if (length is < 0 or > ChunkFrameConstants.MaxPayload)
        {
            error = $"payload length {length} is out of range 0..{ChunkFrameConstants.MaxPayload}";
            return false;
        }

        var expectedSize = ChunkFrameConstants.FixedHeaderSize + nameLength + length;
        if (span.Length != expectedSize)
        {
            error = $"frame is {span.Length} bytes but its header says {expectedSize}";
            return false;
        }

        var nameBytes = span.Slice(ChunkFrameConstants.FixedHeaderSize, nameLength);
        var actualHeaderCrc = Crc32C.Append(Crc32C.Compute(span[..36]), nameBytes);
        if (actualHeaderCrc != headerCrc)
        {
            error = $"header CRC32C 0x{actualHeaderCrc:X8} does not match 0x{headerCrc:X8}";
            return false;
        }

        if (manifestVersion <= 0 || shardId < 0 || offset < 0)
        {
            error = $"header fields out of range (manifest version {manifestVersion}, shard {shardId}, offset {offset})";
            return false;
        }

        var dataset = Encoding.ASCII.GetString(nameBytes);
        if (!SyncNames.IsValid(dataset))
        {
            error = "dataset name in the header is not a valid name";
            return false;
        }

        var body = frame.Slice(ChunkFrameConstants.FixedHeaderSize + nameLength, length);
        var actualPayloadCrc = Crc32C.Compute(body.Span);
        if (actualPayloadCrc != payloadCrc)
        {
            error = $"payload CRC32C 0x{actualPayloadCrc:X8} does not match 0x{payloadCrc:X8} (dataset {dataset}, shard {shardId}, offset {offset})";
            return false;
        }

        header = new ChunkFrameHeader(dataset, manifestVersion, shardId, offset, length, payloadCrc, (span[5] & ChunkFrameConstants.FlagRepair) != 0);
        payload = body;
        error = "";
        return true;
    }
}
