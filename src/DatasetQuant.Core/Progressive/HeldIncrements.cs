using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// What a device must remember of the layers it applied to shrink later without a download: for every source sample, the
/// width each of its increments reached and the layer that brought it, two bytes per increment
/// (<c>width &lt;&lt; 12 | layer</c>). A sample's list ends at its current width, so no counts are stored. Stored as
/// <c>{name}.dqh</c> (docs/format.md §13); about 2 % of the held bytes at 1 bpp on 28×28 images.
/// </summary>
public sealed class HeldIncrements
{
    public const string FileExtension = ".dqh";

    /// <summary>Layers a device can tell apart (12 bits per increment).</summary>
    public const int MaxLayers = 4096;

    private static ReadOnlySpan<byte> Magic => "DQH1"u8;

    private const int HeaderSize = 24;

    private readonly List<ushort>[] _bySample;

    public HeldIncrements(int sampleCount, int pixelsPerSample)
    {
        (SampleCount, PixelsPerSample) = (sampleCount, pixelsPerSample);
        _bySample = new List<ushort>[sampleCount];
    }

    public int SampleCount { get; }

    public int PixelsPerSample { get; }

    /// <summary>Increments held, over every sample.</summary>
    public int Count { get; private set; }

    /// <summary>Layers applied: the next layer to apply has this index.</summary>
    public int Layers { get; private set; }

    /// <summary>Bytes of the file: header, the bitmap of stored samples, two bytes per increment, checksum.</summary>
    public static long FileBytes(int samples, long increments) => HeaderSize + ((samples + 7L) / 8) + (2 * increments) + 4;

    public int WidthOf(int sample) => _bySample[sample] is { Count: > 0 } list ? list[^1] >> 12 : 0;

    /// <summary>Records that layer <paramref name="layer"/> (the next one) raised <paramref name="sample"/> to <paramref name="width"/>.</summary>
    public void Add(int sample, int width, int layer)
    {
        if ((layer != Layers && layer != Layers - 1) || layer >= MaxLayers || width <= WidthOf(sample) || width > SampleQuantizer.MaxBits)
        {
            throw new ArgumentException($"layer {layer} cannot raise sample {sample} from {WidthOf(sample)} to {width} bits after {Layers} layers.");
        }

        (_bySample[sample] ??= []).Add((ushort)((width << 12) | layer));
        Count++;
        Layers = layer + 1;
    }

    /// <summary>Forgets every increment of layers ≥ <paramref name="layers"/>.</summary>
    public void TruncateTo(int layers)
    {
        foreach (var list in _bySample)
        {
            if (list is not null)
            {
                var before = list.Count;
                list.RemoveAll(entry => (entry & 0xFFF) >= layers);
                Count -= before - list.Count;
            }
        }

        Layers = Math.Min(Layers, layers);
    }

    public void Write(string path)
    {
        var bytes = new byte[FileBytes(SampleCount, Count)];
        Magic.CopyTo(bytes);
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], 1);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], SampleCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], PixelsPerSample);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], Layers);
        var at = HeaderSize + ((SampleCount + 7) / 8);
        for (var i = 0; i < SampleCount; i++)
        {
            if (_bySample[i] is { Count: > 0 })
            {
                bytes[HeaderSize + (i >> 3)] |= (byte)(1 << (i & 7));
            }
        }

        foreach (var list in _bySample)
        {
            foreach (var entry in list ?? [])
            {
                BinaryPrimitives.WriteUInt16LittleEndian(span[at..], entry);
                at += 2;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>
    /// Reads what <see cref="Write"/> wrote; <paramref name="storedWidths"/> (the widths of the shard beside it, in its
    /// order) tells where each stored sample's list ends. A defect is a <see cref="DqsFormatException"/> naming the file
    /// and field.
    /// </summary>
    public static HeldIncrements Read(string path, ReadOnlySpan<byte> storedWidths)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize + 4 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new DqsFormatException(path, "magic", null, "not a held-increments file (magic is not DQH1).");
        }

        var span = bytes.AsSpan();
        if (BinaryPrimitives.ReadUInt16LittleEndian(span[4..]) is var major && major != 1)
        {
            throw new DqsFormatException(path, "versionMajor", null, $"held-increments version {major} is not supported (this reader knows 1).");
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            throw new DqsFormatException(path, "checksum", null, "the held increments' CRC32C does not match their bytes.");
        }

        var samples = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var layers = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (samples < 0 || count < 0 || FileBytes(samples, count) != bytes.Length || layers is < 0 or > MaxLayers)
        {
            throw new DqsFormatException(path, "incrementCount", null, $"{count} increments of {samples} samples do not fill {bytes.Length} bytes.");
        }

        var held = new HeldIncrements(samples, BinaryPrimitives.ReadInt32LittleEndian(span[12..])) { Layers = layers };
        var at = HeaderSize + ((samples + 7) / 8);
        var stored = 0;
        for (var i = 0; i < samples; i++)
        {
            if ((bytes[HeaderSize + (i >> 3)] & (1 << (i & 7))) == 0)
            {
                continue;
            }

            if (stored >= storedWidths.Length)
            {
                throw new DqsFormatException(path, "storedSamples", null, $"more samples are marked stored than the shard's {storedWidths.Length}.");
            }

            var target = storedWidths[stored++];
            var previous = 0;
            while (previous < target)
            {
                if (at >= bytes.Length - 4)
                {
                    throw new DqsFormatException(path, "increments", null, $"sample {i}'s increments stop below its width {target} in the shard.");
                }

                var entry = BinaryPrimitives.ReadUInt16LittleEndian(span[at..]);
                var width = entry >> 12;
                if (width <= previous || width > target || (entry & 0xFFF) >= layers)
                {
                    throw new DqsFormatException(path, "increments", null, $"sample {i}: an increment to {width} bits in layer {entry & 0xFFF} does not follow {previous} bits.");
                }

                (held._bySample[i] ??= []).Add(entry);
                held.Count++;
                previous = width;
                at += 2;
            }
        }

        if (at != bytes.Length - 4 || stored != storedWidths.Length)
        {
            throw new DqsFormatException(path, "increments", null, "increments remain after every sample's width was reached.");
        }

        return held;
    }
}
