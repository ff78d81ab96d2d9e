namespace DatasetQuant.Sync.Chunks;

/// <summary>The binary chunk frame's fixed numbers (docs/protocol.md, "Chunk frame").</summary>
public static class ChunkFrameConstants
{
    /// <summary>"DQCK" read as a little-endian uint32.</summary>
    public const uint Magic = 0x4B435144;

    public const byte Version = 1;

    /// <summary>Bytes before the dataset name.</summary>
    public const int FixedHeaderSize = 40;

    /// <summary>128 KiB: the largest payload a frame may carry, and the default chunk size.</summary>
    public const int MaxPayload = 128 * 1024;

    public const int MinChunkSize = 1024;

    public const int MaxFrameSize = FixedHeaderSize + SyncNames.MaxLength + MaxPayload;

    /// <summary>Flag bit 0: the frame answers a pull (sent on <c>devices/{id}/chunks</c>).</summary>
    public const byte FlagRepair = 1;
}
