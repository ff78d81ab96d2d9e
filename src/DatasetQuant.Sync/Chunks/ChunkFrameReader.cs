using System.Buffers.Binary;
using System.Text;

namespace DatasetQuant.Sync.Chunks;

/// <summary>
/// Parses and checks chunk frames. Never throws on bad input: returns false with the reason, which starts with
/// "ChunkFrame: " and names the header field at fault (the caller logs it with the topic and drops the frame). The
/// payload is only returned when both CRCs match.
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
            error = $"ChunkFrame: payload of {span.Length} bytes is shorter than the {ChunkFrameConstants.FixedHeaderSize}-byte header";
            return false;
        }

        if (BinaryPrimitives.ReadUInt32LittleEndian(span) != ChunkFrameConstants.Magic)
        {
            error = $"ChunkFrame: field 'magic' is 0x{BinaryPrimitives.ReadUInt32LittleEndian(span):X8}, expected 0x{ChunkFrameConstants.Magic:X8} (\"DQCK\")";
            return false;
        }

        if (span[4] != ChunkFrameConstants.Version)
        {
            error = $"ChunkFrame: field 'frameVersion' is {span[4]}: not supported (expected {ChunkFrameConstants.Version})";
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
            error = $"ChunkFrame: field 'nameLength' is {nameLength}, out of range 1..{SyncNames.MaxLength}";
            return false;
        }

        if (length is < 0 or > ChunkFrameConstants.MaxPayload)
        {
            error = $"ChunkFrame: field 'payloadLength' is {length}, out of range 0..{ChunkFrameConstants.MaxPayload}";
            return false;
        }

        var expectedSize = ChunkFrameConstants.FixedHeaderSize + nameLength + length;
        if (span.Length != expectedSize)
        {
            error = $"ChunkFrame: payload is {span.Length} bytes but fields 'nameLength' and 'payloadLength' make {expectedSize}";
            return false;
        }

        var nameBytes = span.Slice(ChunkFrameConstants.FixedHeaderSize, nameLength);
        var actualHeaderCrc = Crc32C.Append(Crc32C.Compute(span[..36]), nameBytes);
        if (actualHeaderCrc != headerCrc)
        {
            error = $"ChunkFrame: field 'headerCrc' is 0x{headerCrc:X8} but the header and name have CRC32C 0x{actualHeaderCrc:X8}";
            return false;
        }

        error = manifestVersion <= 0 ? $"ChunkFrame: field 'manifestVersion' is {manifestVersion}, must be at least 1"
            : shardId < 0 ? $"ChunkFrame: field 'shardId' is negative ({shardId})"
            : offset < 0 ? $"ChunkFrame: field 'offset' is negative ({offset})"
            : "";
        if (error.Length > 0)
        {
            return false;
        }

        var dataset = Encoding.ASCII.GetString(nameBytes);
        if (!SyncNames.IsValid(dataset))
        {
            error = "ChunkFrame: field 'dataset' is not a valid name";
            return false;
        }

        var body = frame.Slice(ChunkFrameConstants.FixedHeaderSize + nameLength, length);
        var actualPayloadCrc = Crc32C.Compute(body.Span);
        if (actualPayloadCrc != payloadCrc)
        {
            error = $"ChunkFrame: field 'payloadCrc' is 0x{payloadCrc:X8} but the payload has CRC32C 0x{actualPayloadCrc:X8} (dataset {dataset}, shard {shardId}, offset {offset})";
            return false;
        }

        header = new ChunkFrameHeader(dataset, manifestVersion, shardId, offset, length, payloadCrc, (span[5] & ChunkFrameConstants.FlagRepair) != 0);
        payload = body;
        error = "";
        return true;
    }
}
