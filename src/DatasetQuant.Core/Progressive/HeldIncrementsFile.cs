using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The <c>{name}.dqh</c> file (docs/format.md §13). Both versions share a 24-byte header and end with a CRC32C.
/// Version 1: a bitmap of the stored samples, then two bytes per increment (<c>width &lt;&lt; 12 | layer</c>).
/// Version 2 (held samples 0..m−1, first increments in that order): a varint per layer, the new samples it brought; two
/// bits per held sample, its increment count less one (3: four or more); then, for each sample raised more than once,
/// varints: the count less four when four or more, the first width less one, and per later increment
/// <c>(layer − previous layer) &lt;&lt; 3 | (width − previous width − 1)</c>. A sample's last width is the shard's.
/// </summary>
internal static class HeldIncrementsFile
{
    private static ReadOnlySpan<byte> Magic => "DQH1"u8;

    private const int HeaderSize = 24;

    public static long Version1Bytes(int samples, long increments) => HeaderSize + ((samples + 7L) / 8) + (2 * increments) + 4;

    public static long Version2Bytes(HeldIncrements held)
    {
        long perLayer = 0;
        for (var l = 0; l < held.Layers; l++)
        {
            perLayer += LayerEntries.VarintSize((uint)(l < held.NewSamplesPerLayer.Count ? held.NewSamplesPerLayer[l] : 0));
        }

        return HeaderSize + perLayer + ((held.HeldSamples + 3L) / 4) + held.LaterIncrementBytes + 4;
    }

    /// <summary>Version 2 bytes of one sample's list beyond its two-bit count.</summary>
    public static int LaterBytes(List<ushort> entries)
    {
        if (entries.Count < 2)
        {
            return 0;
        }

        var bytes = (entries.Count >= 4 ? LayerEntries.VarintSize((uint)(entries.Count - 4)) : 0) + LayerEntries.VarintSize((uint)((entries[0] >> 12) - 1));
        for (var j = 1; j < entries.Count; j++)
        {
            bytes += LayerEntries.VarintSize(Later(entries[j - 1], entries[j]));
        }

        return bytes;
    }

    private static uint Later(ushort previous, ushort entry) =>
        (uint)((((entry & 0xFFF) - (previous & 0xFFF)) << 3) | ((entry >> 12) - (previous >> 12) - 1));

    public static void Write(HeldIncrements held, string path)
    {
        var version = held.NumberedByFirstIncrement ? 2 : 1;
        var bytes = new byte[held.FileBytes];
        var span = bytes.AsSpan();
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)version);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], held.SampleCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], held.PixelsPerSample);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], held.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], held.Layers);
        var at = HeaderSize;
        if (version == 1)
        {
            at += (held.SampleCount + 7) / 8;
            for (var i = 0; i < held.SampleCount; i++)
            {
                foreach (var entry in held.EntriesOf(i) ?? [])
                {
                    bytes[HeaderSize + (i >> 3)] |= (byte)(1 << (i & 7));
                    BinaryPrimitives.WriteUInt16LittleEndian(span[at..], entry);
                    at += 2;
                }
            }
        }
        else
        {
            for (var l = 0; l < held.Layers; l++)
            {
                at += LayerEntries.WriteVarint(span[at..], (uint)(l < held.NewSamplesPerLayer.Count ? held.NewSamplesPerLayer[l] : 0));
            }

            var counts = at;
            at += (held.HeldSamples + 3) / 4;
            for (var k = 0; k < held.HeldSamples; k++)
            {
                var entries = held.EntriesOf(k)!;
                bytes[counts + (k >> 2)] |= (byte)(Math.Min(entries.Count - 1, 3) << (2 * (k & 3)));
                if (entries.Count < 2)
                {
                    continue;
                }

                if (entries.Count >= 4)
                {
                    at += LayerEntries.WriteVarint(span[at..], (uint)(entries.Count - 4));
                }

                at += LayerEntries.WriteVarint(span[at..], (uint)((entries[0] >> 12) - 1));
                for (var j = 1; j < entries.Count; j++)
                {
                    at += LayerEntries.WriteVarint(span[at..], Later(entries[j - 1], entries[j]));
                }
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
        AtomicFile.WriteAllBytes(path, bytes);
    }

    public static HeldIncrements Read(string path, ReadOnlySpan<byte> storedWidths)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize + 4 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new DqsFormatException(path, "magic", null, "not a held-increments file (magic is not DQH1).");
        }

        var span = bytes.AsSpan();
        var version = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        if (version is not (1 or 2))
        {
            throw new DqsFormatException(path, "versionMajor", null, $"held-increments version {version} is not supported (this reader knows 1 and 2).");
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            throw new DqsFormatException(path, "checksum", null, "the held increments' CRC32C does not match their bytes.");
        }

        var samples = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        var count = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var layers = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (samples < 0 || count < 0 || layers is < 0 or > HeldIncrements.MaxLayers || (version == 1 && Version1Bytes(samples, count) != bytes.Length))
        {
            throw new DqsFormatException(path, "incrementCount", null, $"{count} increments of {samples} samples in {layers} layers do not fill {bytes.Length} bytes.");
        }

        var held = new HeldIncrements(samples, BinaryPrimitives.ReadInt32LittleEndian(span[12..])) { Layers = layers };
        var reader = new HeldReader(path, bytes, layers);
        if (version == 1)
        {
            reader.ReadVersion1(held, storedWidths);
        }
        else
        {
            reader.ReadVersion2(held, storedWidths);
        }

        held.Recount();
        if (held.Count != count)
        {
            throw new DqsFormatException(path, "incrementCount", null, $"the header says {count} increments; the lists hold {held.Count}.");
        }

        return held;
    }
}
