namespace DatasetQuant.Sync.Chunks;

/// <summary>The header of one chunk frame: which bytes of which shard of which manifest version it carries.</summary>
public readonly record struct ChunkFrameHeader(
    string Dataset,
    long ManifestVersion,
    int ShardId,
    long Offset,
    int Length,
    uint PayloadCrc32C,
    bool IsRepair)
{
    public int FrameSize => ChunkFrameConstants.FixedHeaderSize + Dataset.Length + Length;
}
