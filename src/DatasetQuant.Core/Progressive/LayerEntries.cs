using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The increments of a layer, in any of its layouts (docs/format.md §13). Version 1 spends 6 bytes per increment and 7
/// more per new sample; version 2 sorts a layer's increments by sample (a sample's own increments keep their order, which
/// is all applying them needs) and stores the sample as a varint gap, from and to in one byte, the label in one byte when
/// the classes fit, and s₈ as a binary16 when every new sample's s₈ in the layer is one. Version 3 is version 2 with the
/// reconstruction at the entry's `to` width (scale, shift) in every entry instead of s₈ in a sample's first.
/// </summary>
internal static partial class LayerEntries
{
    public static int LabelBytes(int classCount) => classCount <= 256 ? 1 : 2;

    public static int Version1Size(int pixels, int from, int to) =>
        6 + (from == 0 ? 7 : 0) + SampleQuantizer.PackedBytes(pixels, to - from);

    /// <summary>An entry's size in version <paramref name="major"/> with its sample gap as one byte (its least), binary16 scales assumed.</summary>
    public static int LeastSize(int major, int classCount, int pixels, int from, int to) => major == 1
        ? Version1Size(pixels, from, to)
        : 2 + (from == 0 ? LabelBytes(classCount) : 0) + (CarriesPair(major, from) ? 3 : 0) + SampleQuantizer.PackedBytes(pixels, to - from);

    /// <summary>The increments in the order versions 2 and 3 write them: by sample, a sample's own in their order.</summary>
    public static LayerIncrement[] SortedOrder(IReadOnlyList<LayerIncrement> increments) =>
        [.. increments.Select((increment, position) => (increment, position)).OrderBy(p => p.increment.Sample).ThenBy(p => p.position).Select(p => p.increment)];

    /// <summary>Whether an entry of version <paramref name="major"/> carries a scale and shift: every entry of 3, a sample's first of 1 and 2.</summary>
    public static bool CarriesPair(int major, int from) => major == 3 || from == 0;

    /// <summary>The scale and shift a version 2 or 3 entry stores: s₈ and t (2), the reconstruction at its `to` width (3).</summary>
    private static QuantizationParameters Pair(int major, LayerIncrement increment) => major == 3
        ? increment.Reconstruction ?? throw new ArgumentException($"a version 3 layer needs the reconstruction of every entry; sample {increment.Sample}'s {increment.From} → {increment.To} has none.")
        : new QuantizationParameters(increment.Scale8, increment.Shift);

    /// <summary>Whether every scale a version 2 or 3 layer of <paramref name="increments"/> stores is a binary16 value, so it takes two bytes.</summary>
    public static bool ScalesAreBinary16(int major, IEnumerable<LayerIncrement> increments) =>
        increments.All(i => !CarriesPair(major, i.From) || DqsScale.IsExact(Pair(major, i).Scale));

    public static long SortedSize(int major, int classCount, int pixels, IReadOnlyList<LayerIncrement> sorted, bool binary16)
    {
        long size = 0;
        var previous = 0;
        foreach (var increment in sorted)
        {
            size += Leb128.Size((uint)(increment.Sample - previous)) + 1 + SampleQuantizer.PackedBytes(pixels, increment.To - increment.From);
            size += increment.From == 0 ? LabelBytes(classCount) : 0;
            size += CarriesPair(major, increment.From) ? (binary16 ? 2 : 4) + 1 : 0;
            previous = increment.Sample;
        }

        return size;
    }

    /// <summary>Writes the entries of a version 2 or 3 layer.</summary>
    public static int WriteSorted(Span<byte> span, int major, int classCount, int pixels, IReadOnlyList<LayerIncrement> sorted, bool binary16)
    {
        var at = 0;
        var previous = 0;
        foreach (var increment in sorted)
        {
            at += WriteHead(span[at..], increment, previous, classCount);
            previous = increment.Sample;

            if (CarriesPair(major, increment.From))
            {
                var pair = Pair(major, increment);
                if (binary16)
                {
                    BinaryPrimitives.WriteHalfLittleEndian(span[at..], (Half)pair.Scale);
                    at += 2;
                }
                else
                {
                    BinaryPrimitives.WriteSingleLittleEndian(span[at..], pair.Scale);
                    at += 4;
                }

                span[at++] = (byte)(sbyte)pair.Shift;
            }

            increment.Planes.Span.CopyTo(span[at..]);
            at += SampleQuantizer.PackedBytes(pixels, increment.To - increment.From);
        }

        return at;
    }

    /// <summary>
    /// A version 4 (planes) entry's size with its sample gap as one byte: gap, from/to, a new sample's label and grid (a
    /// threshold and a step code), and each plane's length varint and segment.
    /// </summary>
    public static int PlanesEntrySize(int classCount, int from, ReadOnlySpan<int> lengths)
    {
        var size = 2 + (from == 0 ? LabelBytes(classCount) + 2 : 0);
        foreach (var length in lengths)
        {
            size += Leb128.Size((uint)length) + length;
        }

        return size;
    }

    public static long PlanesSize(int classCount, IReadOnlyList<LayerIncrement> sorted)
    {
        long size = 0;
        var previous = 0;
        foreach (var increment in sorted)
        {
            size += PlanesEntrySize(classCount, increment.From, Lengths(increment)) - 1 + Leb128.Size((uint)(increment.Sample - previous));
            previous = increment.Sample;
        }

        return size;
    }

    /// <summary>Writes the entries of a version 4 layer (docs/format.md §13).</summary>
    public static int WritePlanes(Span<byte> span, int classCount, IReadOnlyList<LayerIncrement> sorted)
    {
        var at = 0;
        var previous = 0;
        foreach (var increment in sorted)
        {
            at += WriteHead(span[at..], increment, previous, classCount);
            previous = increment.Sample;
            if (increment.From == 0)
            {
                span[at++] = increment.Grid.Threshold;
                span[at++] = increment.Grid.StepCode;
            }

            var segments = increment.Planes.Span;
            foreach (var length in Lengths(increment))
            {
                at += Leb128.Write(span[at..], (uint)length);
                segments[..length].CopyTo(span[at..]);
                segments = segments[length..];
                at += length;
            }
        }

        return at;
    }

    private static int[] Lengths(LayerIncrement increment) => increment.SegmentLengths is { } lengths && lengths.Length == increment.To - increment.From
        ? lengths
        : throw new ArgumentException($"a version 4 entry needs a segment length per plane; sample {increment.Sample}'s {increment.From} → {increment.To} has {increment.SegmentLengths?.Length ?? 0}.");

    /// <summary>What entries of versions 2–4 begin with: the sample's gap, from and to, and on a new sample its label.</summary>
    private static int WriteHead(Span<byte> span, LayerIncrement increment, int previous, int classCount)
    {
        var at = Leb128.Write(span, (uint)(increment.Sample - previous));
        span[at++] = (byte)((increment.From << 4) | increment.To);
        return at + (increment.From == 0 ? WriteLabel(span[at..], increment.Label, classCount) : 0);
    }

    /// <summary>A new sample's label: one byte when the classes fit, else two.</summary>
    private static int WriteLabel(Span<byte> span, int label, int classCount)
    {
        if (LabelBytes(classCount) == 1)
        {
            span[0] = (byte)label;
            return 1;
        }

        BinaryPrimitives.WriteUInt16LittleEndian(span, (ushort)label);
        return 2;
    }

    public static int WriteVersion1(Span<byte> span, int pixels, IReadOnlyList<LayerIncrement> increments)
    {
        var at = 0;
        foreach (var increment in increments)
        {
            BinaryPrimitives.WriteInt32LittleEndian(span[at..], increment.Sample);
            span[at + 4] = increment.From;
            span[at + 5] = increment.To;
            at += 6;
            if (increment.From == 0)
            {
                BinaryPrimitives.WriteUInt16LittleEndian(span[at..], (ushort)increment.Label);
                BinaryPrimitives.WriteSingleLittleEndian(span[(at + 2)..], increment.Scale8);
                span[at + 6] = (byte)(sbyte)increment.Shift;
                at += 7;
            }

            increment.Planes.Span.CopyTo(span[at..]);
            at += SampleQuantizer.PackedBytes(pixels, increment.To - increment.From);
        }

        return at;
    }
}
