using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Reads a layer's entries (any version) after its checksum has passed, so that a defect here is a writer's error
/// or a forged file: every field is bounded before it is used, and no array is larger than the bytes could fill.
/// </summary>
internal readonly struct LayerIncrementReader(byte[] bytes, string name, LayerHeader header, int major, bool binary16Scales)
{
    /// <summary>The fewest bytes an entry of any version takes (a one-byte gap, one for from/to, one of planes or a plane's length).</summary>
    private const int LeastEntryBytes = 3;

    public LayerIncrement[] ReadAll(int at)
    {
        if (major == LayerFile.DirectoryPlanesVersion)
        {
            return ReadDirectory(at);
        }

        var span = bytes.AsSpan();
        var end = bytes.Length - 4;
        var count = header.IncrementCount;
        var pixels = header.PixelsPerSample;
        var increments = new LayerIncrement[Math.Min(count, ((end - at) / LeastEntryBytes) + 1)];
        var previous = 0L;
        for (var k = 0; k < count; k++)
        {
            if (at >= end || k >= increments.Length)
            {
                throw Defect($"increment {k} of {count} runs past the layer's end.");
            }

            long sample;
            int from, to;
            if (major == 1)
            {
                if (at + 6 > end)
                {
                    throw Defect($"increment {k} of {count} runs past the layer's end.");
                }

                (sample, from, to) = (BinaryPrimitives.ReadInt32LittleEndian(span[at..]), span[at + 4], span[at + 5]);
                at += 6;
            }
            else
            {
                var gap = Leb128.Read(span, ref at, end)
                    ?? throw Defect($"increment {k}'s sample gap is not a varint of at most 5 bytes and 32 bits before the layer's end.");
                sample = previous + gap;
                if (at >= end)
                {
                    throw Defect($"increment {k} of {count} runs past the layer's end.");
                }

                (from, to) = (span[at] >> 4, span[at] & 0x0F);
                at++;
            }

            if (sample < 0 || sample >= header.SampleCount || to > SampleQuantizer.MaxBits || from >= to)
            {
                throw Defect($"increment {k} ({sample}: {from} → {to} bits) is out of range.");
            }

            previous = sample;
            var label = from == 0 ? ReadLabel(span, ref at, end, k, count) : 0;
            if (major == LayerFile.PlanesVersion)
            {
                increments[k] = ReadPlanes(span, ref at, end, k, (int)sample, from, to, label);
                continue;
            }

            var carriesPair = LayerEntries.CarriesPair(major, from);
            var (scale, shift) = carriesPair ? ReadPair(span, ref at, end, major >= 2 && binary16Scales ? 2 : 4, k, count) : (0f, 0);
            // The record's scale at the entry's width is a shard's (§4.1): version 3 stores it, versions 1 and 2 its grid's
            // s₈, which the record at `to` bits multiplies by 2^(8−to) (later entries only lower it).
            var recordScale = major == 3 ? scale : scale * (1 << (SampleQuantizer.MaxBits - to));
            if (label >= header.ClassCount || (carriesPair && !(scale > 0 && recordScale <= DqsConstants.MaxScale)))
            {
                throw Defect($"increment {k} brings sample {sample} with label {label} and scale {scale} (the record's at {to} bits: {recordScale}).");
            }

            var planes = SampleQuantizer.PackedBytes(pixels, to - from);
            if (planes > end - at)
            {
                throw Defect($"increment {k} of {count} runs past the layer's end.");
            }

            increments[k] = major == 3
                ? new LayerIncrement((int)sample, (byte)from, (byte)to, label, 0f, 0, bytes.AsMemory(at, planes)) { Reconstruction = new QuantizationParameters(scale, shift) }
                : new LayerIncrement((int)sample, (byte)from, (byte)to, label, scale, shift, bytes.AsMemory(at, planes));
            at += planes;
        }

        if (at != end)
        {
            throw new DqsFormatException(name, "length", null, $"{end - at} bytes follow the last increment.");
        }

        return increments;
    }

    /// <summary>Version 4: a new sample's grid, then each plane's length and segment (docs/format.md §13).</summary>
    private LayerIncrement ReadPlanes(ReadOnlySpan<byte> span, ref int at, int end, int k, int sample, int from, int to, int label)
    {
        var grid = default(PlaneGrid);
        if (from == 0)
        {
            if (at + 2 > end)
            {
                throw PastEnd(k);
            }

            grid = new PlaneGrid(span[at], span[at + 1]);
            at += 2;
        }

        if (label >= header.ClassCount || !grid.IsValid)
        {
            throw Defect($"increment {k} brings sample {sample} with label {label} and step code {grid.StepCode}.");
        }

        var lengths = new int[to - from];
        var first = at;
        var bound = PlaneCoder.SegmentBound(header.PixelsPerSample);
        for (var plane = 0; plane < lengths.Length; plane++)
        {
            var length = Leb128.Read(span, ref at, end);
            if (length is null || length > bound || length > end - at)
            {
                throw BadLength(k, from + plane + 1, bound);
            }

            lengths[plane] = (int)length;
            at += (int)length;
        }

        // The segments without their lengths, back to back, as a shard stores them.
        var segments = new byte[at - first - LengthBytes(lengths)];
        for (int plane = 0, source = first, target = 0; plane < lengths.Length; plane++)
        {
            source += Leb128.Size((uint)lengths[plane]);
            span.Slice(source, lengths[plane]).CopyTo(segments.AsSpan(target));
            (source, target) = (source + lengths[plane], target + lengths[plane]);
        }

        return new LayerIncrement(sample, (byte)from, (byte)to, label, 0f, 0, segments) { SegmentLengths = lengths, Grid = grid };
    }

    /// <summary>
    /// Version 5: the directory of sample gaps, froms, plane counts and segment lengths, then each entry's bytes (a new
    /// sample's label and grid, its segments). An entry's directory takes at least 6 bits, which bounds the entries.
    /// </summary>
    private LayerIncrement[] ReadDirectory(int at)
    {
        var end = bytes.Length - 4;
        var count = header.IncrementCount;
        if (end - at < 2)
        {
            throw PastEnd(0);
        }

        var (gapParameter, lengthParameter) = (bytes[at], bytes[at + 1]);
        if (gapParameter > LayerEntries.MaxDirectoryParameter || lengthParameter > LayerEntries.MaxDirectoryParameter)
        {
            throw new DqsFormatException(name, "parameters", null, $"Rice parameters {gapParameter} and {lengthParameter}; each is at most {LayerEntries.MaxDirectoryParameter}.");
        }

        var increments = new LayerIncrement[Math.Min(count, ((end - at - 2) * 8L / 6) + 1)];
        var bits = new BitListReader(bytes, at + 2, end, name);
        var bound = PlaneCoder.SegmentBound(header.PixelsPerSample);
        var previous = 0;
        for (var k = 0; k < count; k++)
        {
            if (k >= increments.Length)
            {
                throw PastEnd(k);
            }

            var sample = previous + bits.ReadRice("increments", gapParameter, header.SampleCount - 1L - previous, "the sample gap of increment", k);
            var from = bits.Read("increments", LayerEntries.FromBits);
            var planes = 1 + bits.ReadRice("increments", 0, SampleQuantizer.MaxBits - 1 - from, "the plane count less one of increment", k);
            var lengths = new int[planes];
            for (var plane = 0; plane < planes; plane++)
            {
                lengths[plane] = bits.ReadRice("increments", lengthParameter, bound, "a segment length of increment", k);
            }

            increments[k] = new LayerIncrement(sample, (byte)from, (byte)(from + planes), 0, 0f, 0, default) { SegmentLengths = lengths };
            previous = sample;
        }

        if (!bits.PaddingIsZero)
        {
            throw Defect("the bits after the directory's last entry are not zero.");
        }

        var span = bytes.AsSpan();
        at = bits.End;
        for (var k = 0; k < count; k++)
        {
            var increment = increments[k];
            var (label, grid) = (0, default(PlaneGrid));
            if (increment.From == 0)
            {
                label = ReadLabel(span, ref at, end, k, count);
                grid = at + 2 <= end ? new PlaneGrid(span[at], span[at + 1]) : throw PastEnd(k);
                at += 2;
            }

            if (label >= header.ClassCount || (increment.From == 0 && !grid.IsValid))
            {
                throw Defect($"increment {k} brings sample {increment.Sample} with label {label} and step code {grid.StepCode}.");
            }

            var size = 0L;
            foreach (var length in increment.SegmentLengths!)
            {
                size += length;
            }

            if (size > end - at)
            {
                throw PastEnd(k);
            }

            increments[k] = increment with { Label = label, Grid = grid, Planes = bytes.AsMemory(at, (int)size) };
            at += (int)size;
        }

        return at == end ? increments : throw new DqsFormatException(name, "length", null, $"{end - at} bytes follow the last increment.");
    }

    private DqsFormatException PastEnd(int k) => Defect($"increment {k} of {header.IncrementCount} runs past the layer's end.");

    private DqsFormatException BadLength(int k, int plane, int bound) =>
        Defect($"increment {k}'s plane {plane} has no segment length of at most {bound} bytes before the layer's end.");

    private static int LengthBytes(int[] lengths)
    {
        var bytes = 0;
        foreach (var length in lengths)
        {
            bytes += Leb128.Size((uint)length);
        }

        return bytes;
    }

    private int ReadLabel(ReadOnlySpan<byte> span, ref int at, int end, int k, int count)
    {
        var labelBytes = major == 1 ? 2 : LayerEntries.LabelBytes(header.ClassCount);
        if (labelBytes > end - at)
        {
            throw Defect($"increment {k} of {count} runs past the layer's end.");
        }

        int label = labelBytes == 1 ? span[at] : BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
        at += labelBytes;
        return label;
    }

    /// <summary>A scale of <paramref name="scaleBytes"/> (binary16 or float32) and a signed-byte shift.</summary>
    private (float Scale, int Shift) ReadPair(ReadOnlySpan<byte> span, ref int at, int end, int scaleBytes, int k, int count)
    {
        if (scaleBytes + 1 > end - at)
        {
            throw Defect($"increment {k} of {count} runs past the layer's end.");
        }

        var scale = scaleBytes == 2 ? DqsScale.ToSingle(BinaryPrimitives.ReadUInt16LittleEndian(span[at..])) : BinaryPrimitives.ReadSingleLittleEndian(span[at..]);
        at += scaleBytes;
        var shift = (int)(sbyte)span[at++];
        return (scale, shift);
    }

    private DqsFormatException Defect(string message) => new(name, "increments", null, message);
}
