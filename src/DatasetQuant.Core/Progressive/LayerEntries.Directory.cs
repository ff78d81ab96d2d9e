namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Layer version 5, a planes set's entries behind a directory (docs/format.md §13): two Rice parameters, then per entry
/// in sample order its sample gap and each segment's length as Rice codes and its from and plane count in a few bits,
/// then the entries' bytes (a new sample's label and grid, the segments) back to back. Version 4 spends a byte on the
/// gap, a byte on from and to and a varint per segment length: on 8×8 images, whose later planes are segments of a few
/// bytes, about a third of what a rise receives. The directory takes about half of that.
/// </summary>
internal static partial class LayerEntries
{
    /// <summary>The largest Rice parameter of a directory: a gap is below 2^31, a segment length below 2^21.</summary>
    public const int MaxDirectoryParameter = 15;

    /// <summary>The bits of from: 0..7.</summary>
    public const int FromBits = 3;

    /// <summary>
    /// The fewest bytes a planes entry of <paramref name="major"/> takes, which a layer builder sums to keep layers no
    /// smaller than it means: version 4's with a one-byte gap, version 5's bytes behind the directory.
    /// </summary>
    public static int PlanesLeastSize(int major, int classCount, int from, ReadOnlySpan<int> lengths) => major == LayerFile.PlanesVersion
        ? PlanesEntrySize(classCount, from, lengths)
        : DirectoryPayloadSize(classCount, from, lengths);

    /// <summary>The bytes an entry of version 5 puts behind the directory: a new sample's label and grid, and its segments.</summary>
    public static int DirectoryPayloadSize(int classCount, int from, ReadOnlySpan<int> lengths)
    {
        var size = from == 0 ? LabelBytes(classCount) + 2 : 0;
        foreach (var length in lengths)
        {
            size += length;
        }

        return size;
    }

    /// <summary>The Rice parameters of the entries' sample gaps and segment lengths: each the one with the fewest bits, the smallest on a tie.</summary>
    public static (int Gap, int Length) DirectoryParameters(IReadOnlyList<LayerIncrement> sorted)
    {
        Span<long> gapBits = stackalloc long[MaxDirectoryParameter + 1];
        Span<long> lengthBits = stackalloc long[MaxDirectoryParameter + 1];
        var previous = 0;
        foreach (var increment in sorted)
        {
            for (var k = 0; k <= MaxDirectoryParameter; k++)
            {
                gapBits[k] += BitListWriter.RiceBits(increment.Sample - previous, k);
                foreach (var length in Lengths(increment))
                {
                    lengthBits[k] += BitListWriter.RiceBits(length, k);
                }
            }

            previous = increment.Sample;
        }

        return (BitListWriter.FewestBits(gapBits), BitListWriter.FewestBits(lengthBits));
    }

    /// <summary>The bytes of a version 5 layer's entries: the two parameters, the directory (whole bytes) and the entries' bytes.</summary>
    public static long DirectorySize(int classCount, IReadOnlyList<LayerIncrement> sorted)
    {
        var (gapParameter, lengthParameter) = DirectoryParameters(sorted);
        long bits = 0, bytes = 2;
        var previous = 0;
        foreach (var increment in sorted)
        {
            var lengths = Lengths(increment);
            bits += BitListWriter.RiceBits(increment.Sample - previous, gapParameter) + FromBits + lengths.Length;
            foreach (var length in lengths)
            {
                bits += BitListWriter.RiceBits(length, lengthParameter);
            }

            bytes += DirectoryPayloadSize(classCount, increment.From, lengths);
            previous = increment.Sample;
        }

        return bytes + ((bits + 7) / 8);
    }

    /// <summary>Writes the entries of a version 5 layer; <paramref name="span"/> is zeroed (the directory's bits are or-ed in).</summary>
    public static int WriteDirectory(Span<byte> span, int classCount, IReadOnlyList<LayerIncrement> sorted)
    {
        var (gapParameter, lengthParameter) = DirectoryParameters(sorted);
        span[0] = (byte)gapParameter;
        span[1] = (byte)lengthParameter;
        var bits = new BitListWriter(span[2..]);
        var previous = 0;
        foreach (var increment in sorted)
        {
            var lengths = Lengths(increment);
            bits.WriteRice(increment.Sample - previous, gapParameter);
            bits.Write(increment.From, FromBits);
            bits.WriteRice(lengths.Length - 1, 0);
            foreach (var length in lengths)
            {
                bits.WriteRice(length, lengthParameter);
            }

            previous = increment.Sample;
        }

        var at = 2 + bits.BytesWritten;
        foreach (var increment in sorted)
        {
            if (increment.From == 0)
            {
                at += WriteLabel(span[at..], increment.Label, classCount);
                span[at++] = increment.Grid.Threshold;
                span[at++] = increment.Grid.StepCode;
            }

            increment.Planes.Span.CopyTo(span[at..]);
            at += increment.Planes.Length;
        }

        return at;
    }
}
