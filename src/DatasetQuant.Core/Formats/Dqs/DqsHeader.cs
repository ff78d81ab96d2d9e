using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>The shard header (docs/format.md §2): shape, classes, where the shard sits in its set, and the channel statistics.</summary>
public readonly struct DqsHeader
{
    public DqsHeader(int channels, int height, int width, int classCount, int sampleCount, int shardIndex, int shardCount,
        long firstSourceIndex, int sourceCount, long payloadLength, float[] channelMean, float[] channelStandardDeviation)
    {
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        SampleCount = sampleCount;
        ShardIndex = shardIndex;
        ShardCount = shardCount;
        FirstSourceIndex = firstSourceIndex;
        SourceCount = sourceCount;
        PayloadLength = payloadLength;
        ChannelMean = channelMean;
        ChannelStandardDeviation = channelStandardDeviation;
    }

    /// <summary>
    /// The major version the file was written with, or is to be written with (a header made in memory has this writer's,
    /// 2; a writer also writes 1 when asked, for a copy of a 1.x shard whose scales binary16 cannot hold).
    /// </summary>
    public int VersionMajor { get; init; } = DqsConstants.VersionMajor;

    /// <summary>The minor version the file was written with (a header made in memory has this writer's).</summary>
    public int VersionMinor { get; init; } = DqsConstants.VersionMinor;

    /// <summary>
    /// 1: per-sample linear quantization, bit-packed (§6); 2: range-coded bit planes (§14), whose index has its own columns
    /// (<see cref="Planes.PlaneIndexLayout"/>) and a length that depends on the samples (<see cref="PlaneIndexLength"/>).
    /// </summary>
    public int Codec { get; init; } = DqsConstants.CodecSymmetricLinear;

    /// <summary>Codec 2: bytes of the index, its checksum excluded (the reader derives it from the file's length).</summary>
    public long PlaneIndexLength { get; init; }

    public bool IsPlanes => Codec == DqsConstants.CodecPlanes;

    /// <summary>How this shard's index is laid out (docs/format.md §4).</summary>
    public DqsIndexLayout Layout => DqsIndexLayout.For(VersionMajor, Channels, ClassCount, PixelsPerSample);

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int ClassCount { get; }

    /// <summary>Samples stored in this shard (dropped samples are not stored).</summary>
    public int SampleCount { get; }

    public int ShardIndex { get; }

    public int ShardCount { get; }

    /// <summary>Index in the source dataset of the first sample this shard covers, stored or dropped.</summary>
    public long FirstSourceIndex { get; }

    /// <summary>Source samples this shard covers, dropped ones included (≥ <see cref="SampleCount"/>).</summary>
    public int SourceCount { get; }

    public long PayloadLength { get; }

    /// <summary>Per-channel mean μ_c on the 0–255 scale: the centre of every sample's quantizer.</summary>
    public IReadOnlyList<float> ChannelMean { get; }

    /// <summary>Per-channel standard deviation on the 0–255 scale, for normalising decoded samples.</summary>
    public IReadOnlyList<float> ChannelStandardDeviation { get; }

    public int PixelsPerSample => Channels * Height * Width;

    public int HeaderSize => DqsConstants.HeaderSize(Channels);

    public long IndexOffset => HeaderSize;

    /// <summary>Bytes of the index, its checksum excluded.</summary>
    public long IndexLength => IsPlanes ? PlaneIndexLength : Layout.IndexBytes(SampleCount);

    public long PayloadOffset => HeaderSize + IndexLength + DqsConstants.ChecksumSize;

    public long FooterOffset => PayloadOffset + PayloadLength;

    public long FileLength => FooterOffset + DqsConstants.FooterSize;

    /// <summary>Writes the header with its checksum into <paramref name="destination"/> (<see cref="HeaderSize"/> bytes); returns the checksum.</summary>
    public uint Write(Span<byte> destination)
    {
        var d = destination[..HeaderSize];
        d.Clear();
        DqsConstants.HeaderMagic.CopyTo(d);
        var layout = Layout;
        BinaryPrimitives.WriteUInt16LittleEndian(d[4..], (ushort)VersionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(d[6..], (ushort)(VersionMajor == 1 ? DqsConstants.Version1Minor : DqsConstants.VersionMinor));
        BinaryPrimitives.WriteUInt32LittleEndian(d[8..], (uint)HeaderSize);
        // 1.x: the record size; 2.0: the bytes of a label. 1.x: reserved; 2.0: the samples per payload checksum.
        BinaryPrimitives.WriteUInt16LittleEndian(d[12..], (ushort)(VersionMajor == 1 ? DqsConstants.Version1RecordSize : layout.LabelBytes));
        BinaryPrimitives.WriteUInt16LittleEndian(d[22..], (ushort)(VersionMajor == 1 ? 0 : layout.ChecksumBlock));
        BinaryPrimitives.WriteUInt16LittleEndian(d[14..], (ushort)Codec);
        BinaryPrimitives.WriteUInt16LittleEndian(d[16..], (ushort)Channels);
        BinaryPrimitives.WriteUInt16LittleEndian(d[18..], (ushort)Height);
        BinaryPrimitives.WriteUInt16LittleEndian(d[20..], (ushort)Width);
        BinaryPrimitives.WriteUInt32LittleEndian(d[24..], (uint)ClassCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d[28..], (uint)SampleCount);
        BinaryPrimitives.WriteUInt32LittleEndian(d[32..], (uint)ShardIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(d[36..], (uint)ShardCount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[40..], (ulong)FirstSourceIndex);
        BinaryPrimitives.WriteUInt32LittleEndian(d[48..], (uint)SourceCount);
        BinaryPrimitives.WriteUInt64LittleEndian(d[56..], (ulong)PayloadLength);
        for (var c = 0; c < Channels; c++)
        {
            var entry = d[(DqsConstants.FixedHeaderSize + c * DqsConstants.ChannelEntrySize)..];
            BinaryPrimitives.WriteSingleLittleEndian(entry, ChannelMean[c]);
            BinaryPrimitives.WriteSingleLittleEndian(entry[4..], ChannelStandardDeviation[c]);
        }

        var crc = Crc32C.Compute(d[..(HeaderSize - DqsConstants.ChecksumSize)]);
        BinaryPrimitives.WriteUInt32LittleEndian(d[(HeaderSize - DqsConstants.ChecksumSize)..], crc);
        return crc;
    }

    /// <summary>Parses and checks the header of a file of <paramref name="fileLength"/> bytes whose start is <paramref name="data"/>.</summary>
    public static DqsHeader Read(ReadOnlySpan<byte> data, long fileLength, string path, out uint checksum)
    {
        if (fileLength < DqsConstants.FixedHeaderSize || data.Length < DqsConstants.FixedHeaderSize)
        {
            DqsThrowHelper.ThrowTruncated(path, fileLength, DqsConstants.FixedHeaderSize, "the fixed header");
        }

        if (!data[..4].SequenceEqual(DqsConstants.HeaderMagic))
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "magic", $"{Convert.ToHexString(data[..4])} is not a .dqs shard (expected 89445153).");
        }

        var major = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        if (major is not (1 or 2))
        {
            var minor = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]);
            DqsThrowHelper.ThrowInvalidHeader(path, "versionMajor", $"version {major}.{minor} is not supported (this reader reads versions 1.x and 2.x; a newer dq reads it).");
        }

        int channels = BinaryPrimitives.ReadUInt16LittleEndian(data[16..]);
        if (channels is < 1 or > DqsConstants.MaxChannels)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "channels", $"{channels} channels is outside 1..{DqsConstants.MaxChannels}.");
        }

        var headerSize = DqsConstants.HeaderSize(channels);
        if (fileLength < headerSize || data.Length < headerSize)
        {
            DqsThrowHelper.ThrowTruncated(path, fileLength, headerSize, "the header");
        }

        checksum = BinaryPrimitives.ReadUInt32LittleEndian(data[(headerSize - DqsConstants.ChecksumSize)..]);
        var actual = Crc32C.Compute(data[..(headerSize - DqsConstants.ChecksumSize)]);
        if (actual != checksum)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "checksum", $"CRC32C is {actual:X8} but the header records {checksum:X8}: the header is damaged.");
        }

        Expect(path, "headerSize", BinaryPrimitives.ReadUInt32LittleEndian(data[8..]), (uint)headerSize);
        var codec = BinaryPrimitives.ReadUInt16LittleEndian(data[14..]);
        if (codec != DqsConstants.CodecSymmetricLinear && !(codec == DqsConstants.CodecPlanes && major == 2))
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "codec", $"codec {codec} is not supported in version {major} (this reader reads codec 1, and codec 2 in version 2; a newer dq reads it).");
        }

        Expect(path, "flags", BinaryPrimitives.ReadUInt32LittleEndian(data[52..]), 0u);
        int height = BinaryPrimitives.ReadUInt16LittleEndian(data[18..]);
        int width = BinaryPrimitives.ReadUInt16LittleEndian(data[20..]);
        if (height is < 1 or > DqsConstants.MaxSide || width is < 1 or > DqsConstants.MaxSide)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "height/width", $"{height}×{width} is outside 1..{DqsConstants.MaxSide}.");
        }

        var classCount = BinaryPrimitives.ReadUInt32LittleEndian(data[24..]);
        if (classCount is < 1 or > DqsConstants.MaxClassCount)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "classCount", $"{classCount} is outside 1..{DqsConstants.MaxClassCount}.");
        }

        var layout = DqsIndexLayout.For(major, channels, (int)classCount, channels * height * width);
        if (major == 1)
        {
            Expect(path, "recordSize", BinaryPrimitives.ReadUInt16LittleEndian(data[12..]), DqsConstants.Version1RecordSize);
            Expect(path, "reserved", BinaryPrimitives.ReadUInt16LittleEndian(data[22..]), 0u);
        }
        else
        {
            Expect(path, "labelBytes", BinaryPrimitives.ReadUInt16LittleEndian(data[12..]), (uint)layout.LabelBytes);
            Expect(path, "checksumBlock", BinaryPrimitives.ReadUInt16LittleEndian(data[22..]), (uint)layout.ChecksumBlock);
        }

        var sampleCount = BinaryPrimitives.ReadUInt32LittleEndian(data[28..]);
        var shardIndex = BinaryPrimitives.ReadUInt32LittleEndian(data[32..]);
        var shardCount = BinaryPrimitives.ReadUInt32LittleEndian(data[36..]);
        var firstSource = BinaryPrimitives.ReadUInt64LittleEndian(data[40..]);
        var sourceCount = BinaryPrimitives.ReadUInt32LittleEndian(data[48..]);
        var payloadLength = BinaryPrimitives.ReadUInt64LittleEndian(data[56..]);
        if (shardCount == 0 || shardIndex >= shardCount || shardCount > int.MaxValue)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "shardIndex", $"shard {shardIndex} of {shardCount} is not a valid position.");
        }

        if (sampleCount > sourceCount || sourceCount > int.MaxValue || firstSource > long.MaxValue / 2)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "sampleCount", $"{sampleCount} stored of {sourceCount} source samples (from {firstSource}) is impossible.");
        }

        var pixels = (long)channels * height * width;
        var planeIndexLength = 0L;
        if (codec == DqsConstants.CodecPlanes)
        {
            planeIndexLength = PlanesLength(path, fileLength, headerSize, sampleCount, payloadLength, pixels, new Planes.PlaneIndexLayout(layout.LabelBytes, layout.ChecksumBlock));
        }
        else
        {
            CheckLength(path, fileLength, layout, sampleCount, payloadLength, pixels);
        }

        var mean = new float[channels];
        var std = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var entry = data[(DqsConstants.FixedHeaderSize + c * DqsConstants.ChannelEntrySize)..];
            mean[c] = BinaryPrimitives.ReadSingleLittleEndian(entry);
            std[c] = BinaryPrimitives.ReadSingleLittleEndian(entry[4..]);
            if (!(mean[c] >= 0f && mean[c] <= 255f))
            {
                DqsThrowHelper.ThrowInvalidHeader(path, $"channel[{c}].mean", $"{mean[c]} is outside [0, 255].");
            }

            if (!(std[c] >= DqsConstants.MinStandardDeviation && std[c] <= 255f))
            {
                DqsThrowHelper.ThrowInvalidHeader(path, $"channel[{c}].std", $"{std[c]} is outside [{DqsConstants.MinStandardDeviation}, 255].");
            }
        }

        return new DqsHeader(channels, height, width, (int)classCount, (int)sampleCount, (int)shardIndex, (int)shardCount,
            (long)firstSource, (int)sourceCount, (long)payloadLength, mean, std)
        {
            VersionMajor = major,
            VersionMinor = BinaryPrimitives.ReadUInt16LittleEndian(data[6..]),
            Codec = codec,
            PlaneIndexLength = planeIndexLength,
        };
    }

    /// <summary>Codec 1: the payload's bounds by the widths 1..8, and the file's length exactly (§2).</summary>
    private static void CheckLength(string path, long fileLength, in DqsIndexLayout layout, uint sampleCount, ulong payloadLength, long pixels)
    {
        var minPayload = sampleCount * ((pixels + 7) / 8);
        var maxPayload = sampleCount * pixels;
        if (payloadLength < (ulong)minPayload || payloadLength > (ulong)maxPayload)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength", $"{payloadLength} bytes is outside [{minPayload}, {maxPayload}] for {sampleCount} samples of {pixels} pixels.");
        }

        // §3: offsets into the payload are 32-bit (the reader keeps them as uint), so a longer one would wrap them.
        if (payloadLength > uint.MaxValue)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength", $"{payloadLength} bytes is more than a shard holds (2^32 − 1).");
        }

        var expectedLength = layout.Overhead(sampleCount) + (long)payloadLength;
        if (fileLength != expectedLength)
        {
            if (fileLength < expectedLength)
            {
                DqsThrowHelper.ThrowTruncated(path, fileLength, expectedLength, $"a shard of {sampleCount} samples and {payloadLength} payload bytes");
            }

            DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength", $"the header describes {expectedLength} bytes but the file has {fileLength}.");
        }
    }

    /// <summary>
    /// Codec 2 (§14): a payload of at most 2^32 − 1 bytes and no more than 8 segments of the coder's longest per sample,
    /// and an index of at least its fixed columns and a varint per sample; returns the index's length, which is what the
    /// file's length leaves for it.
    /// </summary>
    private static long PlanesLength(string path, long fileLength, int headerSize, uint sampleCount, ulong payloadLength, long pixels, Planes.PlaneIndexLayout layout)
    {
        var maxPayload = Math.Min(uint.MaxValue, sampleCount * (long)Quantization.Planes.PlaneCoder.Planes * Quantization.Planes.PlaneCoder.SegmentBound((int)Math.Min(pixels, int.MaxValue / 16)));
        var minLength = headerSize + layout.MinIndexBytes(sampleCount) + DqsConstants.ChecksumSize + (long)payloadLength + DqsConstants.FooterSize;
        var indexLength = fileLength - headerSize - DqsConstants.ChecksumSize - (long)payloadLength - DqsConstants.FooterSize;
        var maxIndex = layout.LengthsAt(sampleCount) + ((long)sampleCount * Quantization.Planes.PlaneCoder.Planes * IO.Leb128.MaxBytes);
        if (payloadLength > (ulong)maxPayload || fileLength < minLength || indexLength > maxIndex)
        {
            ThrowPlanesLength(path, fileLength, sampleCount, payloadLength, pixels, maxPayload, minLength);
        }

        return indexLength;
    }

    [DoesNotReturn]
    private static void ThrowPlanesLength(string path, long fileLength, uint sampleCount, ulong payloadLength, long pixels, long maxPayload, long minLength)
    {
        if (fileLength < minLength && payloadLength <= (ulong)maxPayload)
        {
            DqsThrowHelper.ThrowTruncated(path, fileLength, minLength, "a planes shard of these samples and payload bytes");
        }

        DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength",
            $"{payloadLength} payload bytes of {sampleCount} samples of {pixels} pixels (at most {maxPayload}) in a file of {fileLength} bytes: the lengths disagree.");
    }

    private static void Expect(string path, string field, uint actual, uint expected)
    {
        if (actual != expected)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, field, $"is {actual}, expected {expected}.");
        }
    }
}
