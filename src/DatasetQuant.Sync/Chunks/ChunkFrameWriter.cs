using System.Buffers.Binary;
using System.Text;

namespace DatasetQuant.Sync.Chunks;

/// <summary>Writes chunk frames (layout in docs/protocol.md, "Chunk frame").</summary>
public static class ChunkFrameWriter
{
    public static int GetFrameSize(string dataset, int payloadLength) => ChunkFrameConstants.FixedHeaderSize + dataset.Length + payloadLength;

    /// <summary>Writes one frame into <paramref name="destination"/> and returns its length.</summary>
    public static int Write(
        Span<byte> destination, string dataset, long manifestVersion, int shardId, long offset, ReadOnlySpan<byte> payload, bool isRepair)
    {
        SyncNames.Require(dataset, nameof(dataset));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(payload.Length, ChunkFrameConstants.MaxPayload, nameof(payload));
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(shardId);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(manifestVersion);

        var size = GetFrameSize(dataset, payload.Length);
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, size, nameof(destination));
        var frame = destination[..size];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, ChunkFrameConstants.Magic);
        frame[4] = ChunkFrameConstants.Version;
        frame[5] = isRepair ? ChunkFrameConstants.FlagRepair : (byte)0;
        frame[6] = (byte)dataset.Length;
        frame[7] = 0;
        BinaryPrimitives.WriteInt64LittleEndian(frame[8..], manifestVersion);
        BinaryPrimitives.WriteInt32LittleEndian(frame[16..], shardId);
        BinaryPrimitives.WriteInt32LittleEndian(frame[20..], payload.Length);
        BinaryPrimitives.WriteInt64LittleEndian(frame[24..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[32..], Crc32C.Compute(payload));
        Encoding.ASCII.GetBytes(dataset, frame[ChunkFrameConstants.FixedHeaderSize..]);
        payload.CopyTo(frame[(ChunkFrameConstants.FixedHeaderSize + dataset.Length)..]);

        // The header CRC covers bytes 0..35 and the name, so a damaged header is told apart from a damaged payload.
        var headerCrc = Crc32C.Append(Crc32C.Compute(frame[..36]), frame.Slice(ChunkFrameConstants.FixedHeaderSize, dataset.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(frame[36..], headerCrc);
        return size;
    }

    public static byte[] Create(string dataset, long manifestVersion, int shardId, long offset, ReadOnlySpan<byte> payload, bool isRepair)
    {
        var frame = new byte[GetFrameSize(dataset, payload.Length)];
        Write(frame, dataset, manifestVersion, shardId, offset, payload, isRepair);
        return frame;
    }
}
