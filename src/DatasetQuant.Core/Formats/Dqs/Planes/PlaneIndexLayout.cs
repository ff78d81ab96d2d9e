using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Formats.Dqs.Planes;

/// <summary>
/// Where a planes shard's index (codec 2, docs/format.md §14) keeps its columns, for a shard of n stored samples:
/// labels, grid thresholds and step codes (a byte each), 4-bit plane counts, one CRC32C per block of samples (as codec 1's 2.0 index),
/// the coder's probability table, then every sample's segment lengths as LEB128 varints. Only the varints' bytes depend
/// on the samples' contents; the reader finds their length from the file's.
/// </summary>
public readonly struct PlaneIndexLayout
{
    public PlaneIndexLayout(int labelBytes, int checksumBlock)
    {
        LabelBytes = labelBytes;
        ChecksumBlock = checksumBlock;
    }

    public int LabelBytes { get; }

    public int ChecksumBlock { get; }

    public static PlaneIndexLayout For(in DqsIndexLayout layout) => new(layout.LabelBytes, layout.ChecksumBlock);

    /// <summary>Whole bytes every stored sample adds to the index beside its varints: label, threshold, step code.</summary>
    public int WholeBytesPerSample => LabelBytes + 2;

    public long BlockCount(long samples) => (samples + ChecksumBlock - 1) / ChecksumBlock;

    internal long ThresholdsAt(long n) => n * LabelBytes;

    internal long StepCodesAt(long n) => n * (LabelBytes + 1);

    internal long PlanesAt(long n) => n * (LabelBytes + 2);

    internal long BlockChecksumsAt(long n) => PlanesAt(n) + ((n + 1) / 2);

    internal long ModelAt(long n) => BlockChecksumsAt(n) + (BlockCount(n) * DqsConstants.ChecksumSize);

    /// <summary>Where the segment lengths start: everything before them has a size fixed by the sample count.</summary>
    public long LengthsAt(long n) => ModelAt(n) + PlaneProbabilities.StoredBytes;

    /// <summary>The least index of n samples: one plane each, whose length takes one byte.</summary>
    public long MinIndexBytes(long n) => LengthsAt(n) + n;

    /// <summary>
    /// Bytes a byte budget sets aside for <paramref name="shards"/> shards of at most <paramref name="samples"/> stored
    /// samples in all, beyond each stored sample's <see cref="WholeBytesPerSample"/> and segments with their varints: each
    /// shard's header, index checksum, footer and probability table, the plane counts' half bytes and the block checksums
    /// (with every shard rounding up).
    /// </summary>
    public long SetAside(long samples, int shards, int channels) =>
        (shards * (DqsConstants.HeaderSize(channels) + DqsConstants.ChecksumSize + DqsConstants.FooterSize + PlaneProbabilities.StoredBytes))
        + ((samples + 1) / 2) + shards + (DqsConstants.ChecksumSize * (BlockCount(samples) + shards));
}
