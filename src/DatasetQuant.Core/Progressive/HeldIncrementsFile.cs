using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The <c>{name}.dqh</c> file (docs/format.md §13). Every version shares a 24-byte header and ends with a CRC32C.
/// Version 1: a bitmap of the stored samples, then two bytes per increment (<c>width &lt;&lt; 12 | layer</c>).
/// Version 2 (held samples 0..m−1, first increments in that order): per layer a varint of the samples it raised from
/// nothing, then per layer a varint of the increments it added to samples already held, then, layer by layer, those
/// samples in ascending order as varint gaps, then every increment's width step as bits (first increments of samples
/// 0..m−1, then the later ones in the order just listed; 0 for a step of 1, else 1 and the step less two in 3 bits).
/// Version 3: a varint of the sum of the held samples' widths, then version 2's lists without each sample's last step,
/// which its width in the shard less the steps before gives. The sum stands in for the check those steps made: every
/// change of a copy raises or lowers some width, so a shard and held increments written by different changes (a cut
/// between the two writes) never agree on it. Version 4: the width sum and the new samples per layer, then per held
/// sample its steps and the Rice-coded layer gaps between its increments (<see cref="HeldLayerDeltas"/>).
/// </summary>
internal static class HeldIncrementsFile
{
    private static ReadOnlySpan<byte> Magic => "DQH1"u8;

    private const int HeaderSize = 24;

    public static long Version1Bytes(int samples, long increments) => HeaderSize + ((samples + 7L) / 8) + (2 * increments) + 4;

    /// <summary>The bytes of versions 2 and 3 around their lists: the header and the checksum.</summary>
    public const int ListsFrame = HeaderSize + 4;

    public static void Write(HeldIncrements held, string path)
    {
        var version = held.Version;
        if (version == 1)
        {
            WriteVersion1(held, path);
        }
        else
        {
            var bytes = new byte[held.FileBytes];
            var span = bytes.AsSpan();
            WriteHeader(span, held, version);
            var at = version >= 4 ? WriteGaps(held, span, HeaderSize) : WriteLists(held, span, HeaderSize, omitLastSteps: version >= 3);
            BinaryPrimitives.WriteUInt32LittleEndian(span[at..], Crc32C.Compute(span[..at]));
            AtomicFile.WriteAllBytes(path, bytes);
        }

        held.FileVersion = version;
    }

    private static void WriteHeader(Span<byte> span, HeldIncrements held, int version)
    {
        Magic.CopyTo(span);
        BinaryPrimitives.WriteUInt16LittleEndian(span[4..], (ushort)version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[6..], 0);
        BinaryPrimitives.WriteInt32LittleEndian(span[8..], held.SampleCount);
        BinaryPrimitives.WriteInt32LittleEndian(span[12..], held.PixelsPerSample);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], held.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[20..], held.Layers);
    }

    /// <summary>
    /// Version 1, streamed a chunk at a time: its bitmap takes a bit per source sample, so a buffer of the whole file
    /// would let the sample count of a layer (which a device cannot check before its first layer) size an allocation.
    /// </summary>
    private static void WriteVersion1(HeldIncrements held, string path)
    {
        using var writer = new AtomicFileWriter(path);
        var crc = uint.MaxValue;
        Span<byte> chunk = stackalloc byte[4096];
        WriteHeader(chunk, held, 1);
        crc = Crc32C.Append(crc, chunk[..HeaderSize]);
        writer.Stream.Write(chunk[..HeaderSize]);
        var samples = held.HeldSampleNumbers();
        var bitmapBytes = (held.SampleCount + 7L) / 8;
        var next = 0;
        for (long start = 0; start < bitmapBytes; start += chunk.Length)
        {
            var part = chunk[..(int)Math.Min(chunk.Length, bitmapBytes - start)];
            part.Clear();
            for (; next < samples.Count && (samples[next] >> 3) < start + part.Length; next++)
            {
                part[(int)((samples[next] >> 3) - start)] |= (byte)(1 << (samples[next] & 7));
            }

            crc = Crc32C.Append(crc, part);
            writer.Stream.Write(part);
        }

        // Two bytes per increment, by sample; the chunk holds an even number of them.
        var used = 0;
        foreach (var sample in samples)
        {
            foreach (var entry in held.EntriesOf(sample)!)
            {
                if (used == chunk.Length)
                {
                    crc = Crc32C.Append(crc, chunk);
                    writer.Stream.Write(chunk);
                    used = 0;
                }

                BinaryPrimitives.WriteUInt16LittleEndian(chunk[used..], entry);
                used += 2;
            }
        }

        crc = Crc32C.Append(crc, chunk[..used]);
        writer.Stream.Write(chunk[..used]);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk, ~crc);
        writer.Stream.Write(chunk[..4]);
        writer.Commit();
    }

    private static int WriteLists(HeldIncrements held, Span<byte> span, int at, bool omitLastSteps)
    {
        var lists = held.Lists;
        if (omitLastSteps)
        {
            at += Leb128.Write(span[at..], (uint)lists.WidthSum);
        }

        for (var l = 0; l < held.Layers; l++)
        {
            at += Leb128.Write(span[at..], (uint)lists.NewIn(l));
        }

        for (var l = 0; l < held.Layers; l++)
        {
            at += Leb128.Write(span[at..], (uint)lists.LaterIn(l).Count);
        }

        for (var l = 0; l < held.Layers; l++)
        {
            var previous = 0;
            foreach (var sample in lists.LaterIn(l))
            {
                at += Leb128.Write(span[at..], (uint)(sample - previous));
                previous = sample;
            }
        }

        // The steps, in the order a reader meets the increments: first increments by sample, then the lists above.
        var bits = new BitListWriter(span[at..]);
        var next = new int[held.HeldSamples];
        for (var k = 0; k < held.HeldSamples; k++)
        {
            var entries = held.EntriesOf(k)!;
            if (!(omitLastSteps && entries.Count == 1))
            {
                bits.WriteStep(HeldIncrements.StepOf(entries, 0));
            }

            next[k] = 1;
        }

        for (var l = 0; l < held.Layers; l++)
        {
            foreach (var sample in lists.LaterIn(l))
            {
                var entries = held.EntriesOf(sample)!;
                var j = next[sample]++;
                if (!(omitLastSteps && j == entries.Count - 1))
                {
                    bits.WriteStep(HeldIncrements.StepOf(entries, j));
                }
            }
        }

        return at + bits.BytesWritten;
    }

    /// <summary>
    /// Version 4: the width sum and each layer's new samples as in version 3, a Rice parameter per later increment
    /// number, then per held sample in number order its steps (<see cref="HeldLayerDeltas.StepBits"/>) and the layer
    /// gap before each of its later increments.
    /// </summary>
    private static int WriteGaps(HeldIncrements held, Span<byte> span, int at)
    {
        var deltas = held.Deltas;
        at += Leb128.Write(span[at..], (uint)deltas.WidthSum);
        for (var l = 0; l < held.Layers; l++)
        {
            at += Leb128.Write(span[at..], (uint)deltas.NewIn(l));
        }

        Span<int> parameters = stackalloc int[HeldLayerDeltas.Parameters + 1];
        for (var n = 1; n <= HeldLayerDeltas.Parameters; n++)
        {
            span[at++] = (byte)(parameters[n] = deltas.Parameter(n));
        }

        var bits = new BitListWriter(span[at..]);
        for (var k = 0; k < held.HeldSamples; k++)
        {
            var entries = held.EntriesOf(k)!;
            var width = entries[^1] >> 12;
            if (width >= 2)
            {
                var allOnes = entries.Count == width;
                bits.Write(allOnes ? 0 : 1, 1);
                for (var (j, previous) = (0, 0); !allOnes && j < entries.Count; previous = entries[j++] >> 12)
                {
                    if (width - previous >= 2)
                    {
                        bits.WriteStep((entries[j] >> 12) - previous);
                    }
                }
            }

            for (var n = 1; n < entries.Count; n++)
            {
                bits.WriteRice((entries[n] & 0xFFF) - (entries[n - 1] & 0xFFF), parameters[n]);
            }
        }

        return at + bits.BytesWritten;
    }

    public static HeldIncrements Read(string path, ReadOnlySpan<byte> storedWidths, int sourceCount, int pixelsPerSample)
    {
        var bytes = File.ReadAllBytes(path);
        if (bytes.Length < HeaderSize + 4 || !bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new DqsFormatException(path, "magic", null, "not a held-increments file (magic is not DQH1).");
        }

        var span = bytes.AsSpan();
        var version = BinaryPrimitives.ReadUInt16LittleEndian(span[4..]);
        if (version is < 1 or > HeldIncrements.LatestVersion)
        {
            throw new DqsFormatException(path, "versionMajor", null, $"held-increments version {version} is not supported (this reader knows 1 to {HeldIncrements.LatestVersion}).");
        }

        if (Crc32C.Compute(span[..^4]) != BinaryPrimitives.ReadUInt32LittleEndian(span[^4..]))
        {
            throw new DqsFormatException(path, "checksum", null, "the held increments' CRC32C does not match their bytes.");
        }

        // Checked against the shard before anything is sized by them: a header is not trusted to size an allocation.
        var samples = BinaryPrimitives.ReadInt32LittleEndian(span[8..]);
        if (samples != sourceCount || BinaryPrimitives.ReadInt32LittleEndian(span[12..]) != pixelsPerSample)
        {
            throw new DqsFormatException(path, "sampleCount", null,
                $"the held increments describe {samples} samples of {BinaryPrimitives.ReadInt32LittleEndian(span[12..])} pixels; the shard covers {sourceCount} of {pixelsPerSample}.");
        }


        var count = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
        var layers = BinaryPrimitives.ReadInt32LittleEndian(span[20..]);
        if (layers is < 0 or > HeldIncrements.MaxLayers)
        {
            throw new DqsFormatException(path, "layers", null, $"{layers} is outside 0..{HeldIncrements.MaxLayers}.");
        }

        if (count < 0 || (version == 1 && Version1Bytes(samples, count) != bytes.Length))
        {
            throw new DqsFormatException(path, "incrementCount", null, $"{count} increments of {samples} samples in {layers} layers do not fill {bytes.Length} bytes.");
        }

        var held = new HeldIncrements(samples, BinaryPrimitives.ReadInt32LittleEndian(span[12..])) { Layers = layers };
        if (version >= 2)
        {
            held.NumberedVersion = version; // before any increment is loaded, so that nothing is counted twice
        }

        var reader = new HeldIncrementsReader(path, bytes, layers);
        if (version == 1)
        {
            reader.ReadVersion1(held, storedWidths);
        }
        else if (version >= 4)
        {
            reader.ReadGaps(held, storedWidths);
        }
        else
        {
            reader.ReadLists(held, storedWidths, lastStepsImplied: version >= 3);
        }

        held.Recount();
        held.FileVersion = version;
        if (held.Count != count)
        {
            throw new DqsFormatException(path, "incrementCount", null, $"the header says {count} increments; the lists hold {held.Count}.");
        }

        return held;
    }
}
