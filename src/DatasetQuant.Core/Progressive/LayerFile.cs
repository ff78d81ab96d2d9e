using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// One increment as a layer carries it: <see cref="Sample"/> goes from <see cref="From"/> to <see cref="To"/> bits, and
/// <see cref="Planes"/> holds the low To − From bits of each of its To-bit codes, packed as codes of that width. A sample's
/// first increment (From = 0) also brings its label and its embedded quantizer (the scale at 8 bits, the shift).
/// </summary>
public readonly record struct LayerIncrement(int Sample, byte From, byte To, int Label, float Scale8, int Shift, ReadOnlyMemory<byte> Planes);

/// <summary>The fixed part of a layer file: the dataset's shape and statistics, and which increments of the order it holds.</summary>
public readonly record struct LayerHeader(int Channels, int Height, int Width, int ClassCount, int SampleCount, int LayerIndex,
    int FirstIncrement, int IncrementCount, float[] ChannelMean, float[] ChannelStandardDeviation)
{
    public int PixelsPerSample => Channels * Height * Width;
}

/// <summary>
/// A <c>.dql</c> layer: a run of consecutive increments of a dataset's embedded increment order, with their bit planes.
/// A device holding layers 0..k−1 holds the allocation of the order's prefix they cover; the next layer raises it, and
/// forgetting the last layers lowers it (docs/format.md, "Layers"). Every byte is covered by the trailing CRC32C.
/// </summary>
public static class LayerFile
{
    public const string FileExtension = ".dql";

    private static ReadOnlySpan<byte> Magic => "DQL1"u8;

    private const int FixedHeaderSize = 36;

    private const int NewSampleExtra = 7;

    public static int EntrySize(int pixels, int from, int to) =>
        6 + (from == 0 ? NewSampleExtra : 0) + SampleQuantizer.PackedBytes(pixels, to - from);

    public static byte[] Encode(LayerHeader header, IReadOnlyList<LayerIncrement> increments)
    {
        var pixels = header.PixelsPerSample;
        var size = FixedHeaderSize + (8 * header.Channels) + 4L;
        foreach (var increment in increments)
        {
            size += EntrySize(pixels, increment.From, increment.To);
        }

        var bytes = new byte[size];
        Magic.CopyTo(bytes);
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], 1);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteUInt16LittleEndian(span[8..], (ushort)header.Channels);
        BinaryPrimitives.WriteUInt16LittleEndian(span[10..], (ushort)header.Height);
        BinaryPrimitives.WriteUInt16LittleEndian(span[12..], (ushort)header.Width);
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
                at += NewSampleExtra;
            }

            increment.Planes.Span.CopyTo(span[at..]);
            at += SampleQuantizer.PackedBytes(pixels, increment.To - increment.From);
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        return bytes;
    }

    /// <summary>Parses a layer; a defect is a <see cref="DqsFormatException"/> naming <paramref name="name"/> and the field.</summary>
    public static (LayerHeader Header, LayerIncrement[] Increments) Decode(byte[] bytes, string name)
    {
        if (bytes.Length < FixedHeaderSize + 12 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new DqsFormatException(name, "magic", null, "not a layer file (magic is not DQL1).");
        }

        var span = bytes.AsSpan();
        var major = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        if (major != 1)
        {
            throw new DqsFormatException(name, "versionMajor", null, $"layer version {major} is not supported (this reader knows 1).");
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            throw new DqsFormatException(name, "checksum", null, "the layer's CRC32C does not match its bytes.");
        }

        int channels = BinaryPrimitives.ReadUInt16LittleEndian(span[8..]), height = BinaryPrimitives.ReadUInt16LittleEndian(span[10..]);
        int width = BinaryPrimitives.ReadUInt16LittleEndian(span[12..]);
        var classCount = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var samples = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[32..]);
        if (channels is < 1 or > DqsConstants.MaxChannels || height is < 1 or > DqsConstants.MaxSide || width is < 1 or > DqsConstants.MaxSide
            || classCount is < 1 or > DqsConstants.MaxClassCount || samples < 0 || count < 0
            || BinaryPrimitives.ReadUInt16LittleEndian(span[14..]) != 0 || BinaryPrimitives.ReadInt32LittleEndian(span[28..]) < 0)
        {
            throw new DqsFormatException(name, "header", null, "the layer header describes no valid dataset.");
        }

        var mean = new float[channels];
        var std = new float[channels];
        var at = FixedHeaderSize;
        for (var c = 0; c < channels; c++, at += 8)
        {
            mean[c] = BinaryPrimitives.ReadSingleLittleEndian(span[at..]);
            std[c] = BinaryPrimitives.ReadSingleLittleEndian(span[(at + 4)..]);
        }

        var header = new LayerHeader(channels, height, width, classCount, samples, BinaryPrimitives.ReadInt32LittleEndian(span[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(span[28..]), count, mean, std);
        var pixels = header.PixelsPerSample;
        var end = bytes.Length - 4;
        var increments = new LayerIncrement[Math.Min(count, (end - at) / 7 + 1)];
        for (var k = 0; k < count; k++)
        {
            if (at + 6 > end || k >= increments.Length)
            {
                throw new DqsFormatException(name, "increments", null, $"increment {k} of {count} runs past the layer's end.");
            }

            var sample = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
            var (from, to) = (span[at + 4], span[at + 5]);
            if ((uint)sample >= (uint)samples || to > SampleQuantizer.MaxBits || from >= to)
            {
                throw new DqsFormatException(name, "increments", null, $"increment {k} ({sample}: {from} → {to} bits) is out of range.");
            }

            var size = EntrySize(pixels, from, to);
            if (at + size > end)
            {
                throw new DqsFormatException(name, "increments", null, $"increment {k} of {count} runs past the layer's end.");
            }

            int label = 0, shift = 0;
            var scale8 = 0f;
            var planes = at + 6;
            if (from == 0)
            {
                label = BinaryPrimitives.ReadUInt16LittleEndian(span[planes..]);
                scale8 = BinaryPrimitives.ReadSingleLittleEndian(span[(planes + 2)..]);
                shift = (sbyte)span[planes + 6];
                if (label >= classCount || !(scale8 > 0) || float.IsInfinity(scale8))
                {
                    throw new DqsFormatException(name, "increments", null, $"increment {k} brings sample {sample} with label {label} and scale {scale8}.");
                }

                planes += NewSampleExtra;
            }

            increments[k] = new LayerIncrement(sample, from, to, label, scale8, shift, bytes.AsMemory(planes, SampleQuantizer.PackedBytes(pixels, to - from)));
            at += size;
        }

        if (at != end)
        {
            throw new DqsFormatException(name, "length", null, $"{end - at} bytes follow the last increment.");
        }

        return (header, increments);
    }
}
