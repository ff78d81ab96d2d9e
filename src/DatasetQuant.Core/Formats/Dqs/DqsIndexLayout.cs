namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Where the index of a shard of one version keeps its fields, and what it costs (docs/format.md §4). Version 1 stores
/// a 16-byte record per sample. Version 2 stores only what does not follow from other fields, as columns: labels (one
/// byte when there are at most 256 classes, else two), binary16 scales, shifts, 4-bit widths, and one CRC32C per block
/// of consecutive samples' payloads; offsets are the running sum of the widths' payload sizes.
/// </summary>
public readonly struct DqsIndexLayout
{
    private DqsIndexLayout(int versionMajor, int channels, int labelBytes, int checksumBlock)
    {
        VersionMajor = versionMajor;
        Channels = channels;
        LabelBytes = labelBytes;
        ChecksumBlock = checksumBlock;
    }

    public int VersionMajor { get; }

    public int Channels { get; }

    /// <summary>Bytes per label in version 2 (1 for at most 256 classes, else 2); 2 inside version 1's record.</summary>
    public int LabelBytes { get; }

    /// <summary>Consecutive samples whose payloads one CRC32C covers: 1 in version 1 (a checksum per record).</summary>
    public int ChecksumBlock { get; }

    public int HeaderSize => DqsConstants.HeaderSize(Channels);

    /// <summary>The layout a writer uses today (version 2) for samples of this shape and class count.</summary>
    public static DqsIndexLayout Current(int channels, int classCount, int pixelsPerSample) =>
        new(2, channels, LabelBytesFor(classCount), ChecksumBlockFor(pixelsPerSample));

    /// <summary>The layout of version 1.x (16-byte records).</summary>
    public static DqsIndexLayout Version1(int channels) => new(1, channels, 2, 1);

    /// <summary>The layout of a shard of <paramref name="versionMajor"/> (1 or 2).</summary>
    public static DqsIndexLayout For(int versionMajor, int channels, int classCount, int pixelsPerSample) =>
        versionMajor == 1 ? Version1(channels) : Current(channels, classCount, pixelsPerSample);

    /// <summary>Version 2: one byte per label up to 256 classes.</summary>
    public static int LabelBytesFor(int classCount) => classCount <= 256 ? 1 : 2;

    /// <summary>
    /// Version 2: samples per payload checksum, so that a block holds at most 64 KiB of 8-bit codes (the first read of a
    /// sample checks its whole block) and at most 64 samples.
    /// </summary>
    public static int ChecksumBlockFor(int pixelsPerSample) => Math.Clamp(65536 / Math.Max(1, pixelsPerSample), 1, DqsConstants.MaxChecksumBlock);

    /// <summary>Whole bytes every stored sample adds to the index (version 2's widths and block checksums come on top, fractionally).</summary>
    public int WholeBytesPerSample => VersionMajor == 1 ? DqsConstants.Version1RecordSize : LabelBytes + 3;

    public long BlockCount(long samples) => (samples + ChecksumBlock - 1) / ChecksumBlock;

    /// <summary>Bytes of the index of <paramref name="samples"/> stored samples, without the index checksum.</summary>
    public long IndexBytes(long samples) => VersionMajor == 1
        ? samples * DqsConstants.Version1RecordSize
        : (samples * WholeBytesPerSample) + ((samples + 1) / 2) + (BlockCount(samples) * DqsConstants.ChecksumSize);

    /// <summary>Header + index + index checksum + footer: the bytes a shard holds beyond its payload.</summary>
    public long Overhead(long samples) => HeaderSize + IndexBytes(samples) + DqsConstants.ChecksumSize + DqsConstants.FooterSize;

    /// <summary>
    /// The bytes beyond <see cref="WholeBytesPerSample"/> per stored sample that <paramref name="shards"/> shards of at
    /// most <paramref name="samples"/> stored samples in all can take: each shard's fixed part, and in version 2 the
    /// widths' half bytes and the block checksums (bounded with every sample stored and every shard rounding up).
    /// What a byte budget sets aside before the allocator sees it.
    /// </summary>
    public long SetAside(long samples, int shards) => (shards * Overhead(0)) + (VersionMajor == 1
        ? 0
        : ((samples + 1) / 2) + shards + (DqsConstants.ChecksumSize * (BlockCount(samples) + shards)));

    // Version 2 column offsets within the index, for a shard of n stored samples.
    internal long ScalesAt(long n) => n * LabelBytes;

    internal long ShiftsAt(long n) => n * (LabelBytes + 2);

    internal long WidthsAt(long n) => n * (LabelBytes + 3);

    internal long BlockChecksumsAt(long n) => WidthsAt(n) + ((n + 1) / 2);
}
