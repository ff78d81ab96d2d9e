using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// One increment as a layer carries it: <see cref="Sample"/> goes from <see cref="From"/> to <see cref="To"/> bits, and
/// <see cref="Planes"/> holds the low To − From bits of each of its To-bit codes, packed as codes of that width. A sample's
/// first increment (From = 0) also brings its label. A version 3 layer brings with every increment the
/// <see cref="Reconstruction"/> of the sample at To bits; versions 1 and 2 bring with a sample's first increment its
/// grid (<see cref="Scale8"/>, the scale at 8 bits, and <see cref="Shift"/>), and the record's scale then follows the
/// grid (s₈·2^(8−b)); their <see cref="Reconstruction"/> is null.
/// </summary>
public readonly record struct LayerIncrement(int Sample, byte From, byte To, int Label, float Scale8, int Shift, ReadOnlyMemory<byte> Planes)
{
    /// <summary>The record's (scale, shift) at <see cref="To"/> bits (version 3); null in versions 1 and 2.</summary>
    public QuantizationParameters? Reconstruction { get; init; }

    /// <summary>
    /// Version 4 (planes, docs/format.md §14): <see cref="Planes"/> holds planes From + 1 … To as range-coded segments
    /// back to back, each <see cref="SegmentLengths"/>[k] bytes; a sample's first increment also brings its grid.
    /// </summary>
    public int[]? SegmentLengths { get; init; }

    /// <summary>Version 4, a sample's first increment: its grid.</summary>
    public PlaneGrid Grid { get; init; }
}

/// <summary>The fixed part of a layer file: the dataset's shape and statistics, and which increments of the order it holds.</summary>
public readonly record struct LayerHeader(int Channels, int Height, int Width, int ClassCount, int SampleCount, int LayerIndex,
    int FirstIncrement, int IncrementCount, float[] ChannelMean, float[] ChannelStandardDeviation)
{
    public int PixelsPerSample => Channels * Height * Width;

    /// <summary>Version 4: the set's model, which the layer that starts the order (increment 0) carries; null otherwise.</summary>
    public PlaneProbabilities? Model { get; init; }

    /// <summary>The layout the layer was read in (0 for a header made in memory): 4 for a planes set's.</summary>
    public int VersionMajor { get; init; }
}

/// <summary>
/// A <c>.dql</c> layer: a run of consecutive increments of a dataset's embedded increment order, with their bit planes.
/// A device holding layers 0..k−1 holds the allocation of the order's prefix they cover; the next layer raises it, and
/// forgetting the last layers lowers it (docs/format.md, "Layers"). Every byte is covered by the trailing CRC32C.
/// </summary>
public static class LayerFile
{
    public const string FileExtension = ".dql";

    /// <summary>The layout <see cref="Encode"/> writes by default for fixed-width codes.</summary>
    public const int VersionMajor = 3;

    /// <summary>The first layout of a planes set's layers (codec 2): each entry its planes' range-coded segments, with varints.</summary>
    public const int PlanesVersion = 4;

    /// <summary>The layout a planes set's layers are written in by default: a directory of Rice codes, then the entries' bytes.</summary>
    public const int DirectoryPlanesVersion = 5;

    /// <summary>Whether layers of <paramref name="versionMajor"/> carry a planes set's segments (4 and 5).</summary>
    public static bool IsPlanes(int versionMajor) => versionMajor is PlanesVersion or DirectoryPlanesVersion;

    /// <summary>A reader knows the file by these three bytes; the fourth names the version as a digit, and versionMajor decides.</summary>
    private static ReadOnlySpan<byte> MagicStem => "DQL"u8;

    private const int FixedHeaderSize = 36;

    /// <summary>Version 2 and 3 header flag (offset 14): every scale the entries store (s₈ or the reconstruction's) is a binary16.</summary>
    private const ushort Binary16Scales = 1;

    /// <summary>
    /// The fewest bytes an entry of <paramref name="versionMajor"/> takes (its sample gap counted as one byte), so a
    /// builder that sums it knows the layer is at least that large.
    /// </summary>
    public static int EntrySize(int classCount, int pixels, int from, int to, int versionMajor = VersionMajor) =>
        LayerEntries.LeastSize(versionMajor, classCount, pixels, from, to);

    /// <summary>
    /// Writes a layer; version 3 unless <paramref name="versionMajor"/> asks for 1 or 2 (which readers still take, and
    /// which store the grid's s₈ instead of each entry's reconstruction).
    /// </summary>
    public static byte[] Encode(LayerHeader header, IReadOnlyList<LayerIncrement> increments, int versionMajor = VersionMajor)
    {
        if (versionMajor is not (1 or 2 or 3 or PlanesVersion or DirectoryPlanesVersion))
        {
            throw new ArgumentOutOfRangeException(nameof(versionMajor), versionMajor, "layer versions are 1 to 5.");
        }

        var pixels = header.PixelsPerSample;
        var sorted = versionMajor >= 2 ? LayerEntries.SortedOrder(increments) : null;
        var binary16 = sorted is not null && !IsPlanes(versionMajor) && LayerEntries.ScalesAreBinary16(versionMajor, sorted);
        var model = IsPlanes(versionMajor) && header.FirstIncrement == 0
            ? header.Model ?? throw new ArgumentException("the first layer of a planes set carries the model; the header has none.", nameof(header))
            : null;
        long entries = model is null ? 0 : PlaneProbabilities.StoredBytes;
        if (versionMajor == DirectoryPlanesVersion)
        {
            entries += LayerEntries.DirectorySize(header.ClassCount, sorted!);
        }
        else if (versionMajor == PlanesVersion)
        {
            entries += LayerEntries.PlanesSize(header.ClassCount, sorted!);
        }
        else if (sorted is not null)
        {
            entries = LayerEntries.SortedSize(versionMajor, header.ClassCount, pixels, sorted, binary16);
        }
        else
        {
            foreach (var increment in increments)
            {
                entries += LayerEntries.Version1Size(pixels, increment.From, increment.To);
            }
        }

        var bytes = new byte[FixedHeaderSize + (8 * header.Channels) + entries + 4];
        var span = bytes.AsSpan();
        MagicStem.CopyTo(span);
        span[3] = (byte)('0' + versionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)versionMajor);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)header.Channels);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], (ushort)header.Height);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], (ushort)header.Width);
        BinaryPrimitives.WriteUInt16LittleEndian(span[14..], binary16 ? Binary16Scales : (ushort)0);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], header.ClassCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], header.SampleCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[24..], header.LayerIndex);
        BinaryPrimitives.WriteInt32LittleEndian(span[28..], header.FirstIncrement);
        BinaryPrimitives.WriteInt32LittleEndian(span[32..], increments.Count);
        var at = FixedHeaderSize;
        for (var c = 0; c < header.Channels; c++, at += 8)
        {
            BinaryPrimitives.WriteSingleLittleEndian(span[at..], header.ChannelMean[c]);
            BinaryPrimitives.WriteSingleLittleEndian(span[(at + 4)..], header.ChannelStandardDeviation[c]);
        }

        if (model is not null)
        {
            model.Write(span[at..]);
            at += PlaneProbabilities.StoredBytes;
        }

        at += versionMajor == DirectoryPlanesVersion ? LayerEntries.WriteDirectory(span[at..], header.ClassCount, sorted!)
            : versionMajor == PlanesVersion ? LayerEntries.WritePlanes(span[at..], header.ClassCount, sorted!)
            : sorted is not null ? LayerEntries.WriteSorted(span[at..], versionMajor, header.ClassCount, pixels, sorted, binary16)
            : LayerEntries.WriteVersion1(span[at..], pixels, increments);
        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        return bytes;
    }

    [DoesNotReturn]
    private static void ThrowInvalidHeader(string name, string field, string message) => throw new DqsFormatException(name, field, null, message);

    /// <summary>A header field outside <paramref name="low"/>..<paramref name="high"/> (the message built only when thrown, once for every field).</summary>
    private static void CheckRange(string name, string field, long value, long low, long high)
    {
        if (value < low || value > high)
        {
            ThrowOutside(name, field, value, low, high);
        }
    }

    [DoesNotReturn]
    private static void ThrowOutside(string name, string field, long value, long low, long high) =>
        ThrowInvalidHeader(name, field, field == "length" ? $"{value} bytes cannot hold a layer header of its channels ({low} at least)."
            : high >= int.MaxValue ? $"{value} is negative." : $"{value} is outside {low}..{high}.");

    [DoesNotReturn]
    private static void ThrowInvalidChannel(string name, int channel, float mean, float std) =>
        throw new DqsFormatException(name, $"channel[{channel}].{(mean is >= 0f and <= 255f ? "std" : "mean")}", null,
            $"mean {mean}, std {std}: a mean is in [0, 255], a std in [0.001, 255].");

    /// <summary>Parses a layer of version 1 to 5; a defect is a <see cref="DqsFormatException"/> naming <paramref name="name"/> and the field.</summary>
    public static (LayerHeader Header, LayerIncrement[] Increments) Decode(byte[] bytes, string name)
    {
        if (bytes.Length < FixedHeaderSize + 12 || !bytes.AsSpan(0, 3).SequenceEqual(MagicStem))
        {
            throw new DqsFormatException(name, "magic", null, "not a layer file (magic is not DQL1 to DQL5).");
        }

        var span = bytes.AsSpan();
        var major = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        if (major is not (1 or 2 or 3 or PlanesVersion or DirectoryPlanesVersion))
        {
            throw new DqsFormatException(name, "versionMajor", null, $"layer version {major} is not supported (this reader knows 1 to 5).");
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            throw new DqsFormatException(name, "checksum", null, "the layer's CRC32C does not match its bytes.");
        }

        int channels = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]), height = BinaryPrimitives.ReadUInt16LittleEndian(span[10..]);
        int width = BinaryPrimitives.ReadUInt16LittleEndian(span[12..]);
        var flags = BinaryPrimitives.ReadUInt16LittleEndian(span[14..]);
        var classCount = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var samples = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[32..]);
        CheckRange(name, "channels", channels, 1, DqsConstants.MaxChannels);
        CheckRange(name, "height", height, 1, DqsConstants.MaxSide);
        CheckRange(name, "width", width, 1, DqsConstants.MaxSide);
        CheckRange(name, "classCount", classCount, 1, DqsConstants.MaxClassCount);
        if ((flags & ~(major is 2 or 3 ? Binary16Scales : 0)) != 0)
        {
            ThrowInvalidHeader(name, "flags", $"0x{flags:X4} sets bits layer version {major} does not define.");
        }

        CheckRange(name, "sampleCount", samples, 0, int.MaxValue);
        CheckRange(name, "firstIncrement", BinaryPrimitives.ReadInt32LittleEndian(span[28..]), 0, int.MaxValue);
        CheckRange(name, "incrementCount", count, 0, int.MaxValue);
        CheckRange(name, "length", bytes.Length, FixedHeaderSize + (8L * channels) + 4, long.MaxValue);

        var mean = new float[channels];
        var std = new float[channels];
        var at = FixedHeaderSize;
        for (var c = 0; c < channels; c++, at += 8)
        {
            mean[c] = BinaryPrimitives.ReadSingleLittleEndian(span[at..]);
            std[c] = BinaryPrimitives.ReadSingleLittleEndian(span[(at + 4)..]);
            // The table goes into the device's shard header as it is (§13: "as in a shard header"), so it is held to the
            // shard's ranges here, where the layer can be named, rather than refused later in the shard the device wrote.
            if (!(mean[c] >= 0f && mean[c] <= 255f && std[c] >= DqsConstants.MinStandardDeviation && std[c] <= 255f))
            {
                ThrowInvalidChannel(name, c, mean[c], std[c]);
            }
        }

        PlaneProbabilities? model = null;
        if (IsPlanes(major) && BinaryPrimitives.ReadInt32LittleEndian(span[28..]) == 0)
        {
            CheckRange(name, "length", bytes.Length, at + PlaneProbabilities.StoredBytes + 4L, long.MaxValue);
            model = PlaneProbabilities.Read(span[at..], out var bad) ?? throw new DqsFormatException(name, $"model[{bad}]", null, "a probability is outside 1..2047.");
            at += PlaneProbabilities.StoredBytes;
        }

        var header = new LayerHeader(channels, height, width, classCount, samples, BinaryPrimitives.ReadInt32LittleEndian(span[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[28..]), count, mean, std) { Model = model, VersionMajor = major };
        var increments = new LayerIncrementReader(bytes, name, header, major, (flags & Binary16Scales) != 0).ReadAll(at);
        return (header, increments);
    }
}
