using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Parses the lists of a <c>.dqh</c> file after its header (<see cref="HeldIncrementsFile"/>), checking each against the
/// widths of the shard beside it; every defect names the file and field.
/// </summary>
internal sealed class HeldReader(string path, byte[] bytes, int layers)
{
    private const int HeaderSize = 24;

    private int _at = HeaderSize;

    private int End => bytes.Length - 4;

    public void ReadVersion1(HeldIncrements held, ReadOnlySpan<byte> storedWidths)
    {
        var samples = held.SampleCount;
        _at = HeaderSize + ((samples + 7) / 8);
        var stored = 0;
        for (var i = 0; i < samples; i++)
        {
            if ((bytes[HeaderSize + (i >> 3)] & (1 << (i & 7))) == 0)
            {
                continue;
            }

            if (stored >= storedWidths.Length)
            {
                throw Defect("storedSamples", $"more samples are marked stored than the shard's {storedWidths.Length}.");
            }

            var target = storedWidths[stored++];
            var entries = new List<ushort>();
            var previous = 0;
            while (previous < target)
            {
                if (_at + 2 > End)
                {
                    throw Defect("increments", $"sample {i}'s increments stop below its width {target} in the shard.");
                }

                var entry = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(_at));
                previous = Check(i, entries, entry, previous, target);
                _at += 2;
            }

            held.Load(i, entries);
        }

        if (_at != End || stored != storedWidths.Length)
        {
            throw Defect("increments", "increments remain after every sample's width was reached.");
        }
    }

    public void ReadVersion2(HeldIncrements held, ReadOnlySpan<byte> storedWidths)
    {
        var firstLayer = new List<int>();
        for (var l = 0; l < layers; l++)
        {
            var brought = Varint("newSamples");
            if (firstLayer.Count + (long)brought > held.SampleCount)
            {
                throw Defect("newSamples", $"the layers bring more than the dataset's {held.SampleCount} samples.");
            }

            firstLayer.AddRange(Enumerable.Repeat(l, (int)brought));
        }

        var m = firstLayer.Count;
        if (m != storedWidths.Length)
        {
            throw Defect("newSamples", $"the layers brought {m} samples; the shard stores {storedWidths.Length}.");
        }

        var counts = _at;
        _at += (m + 3) / 4;
        if (_at > End)
        {
            throw Defect("counts", $"{m} samples' counts run past the end of the file.");
        }

        for (var k = 0; k < m; k++)
        {
            var code = (bytes[counts + (k >> 2)] >> (2 * (k & 3))) & 3;
            var count = code < 3 ? code + 1 : 4 + (int)Varint("counts");
            var target = storedWidths[k];
            if (count > SampleQuantizer.MaxBits || count > target)
            {
                throw Defect("counts", $"sample {k} has {count} increments to reach {target} bits.");
            }

            var entries = new List<ushort>(count);
            var width = count == 1 ? target : (int)Varint("increments") + 1;
            var previous = Check(k, entries, (ushort)((width << 12) | firstLayer[k]), 0, target);
            for (var j = 1; j < count; j++)
            {
                var later = Varint("increments");
                var layer = (entries[^1] & 0xFFF) + (long)(later >> 3);
                width = previous + (int)(later & 7) + 1;
                if (layer >= layers || width > target)
                {
                    throw Defect("increments", $"sample {k}: an increment to {width} bits in layer {layer} does not fit {layers} layers and width {target}.");
                }

                previous = Check(k, entries, (ushort)((width << 12) | (int)layer), previous, target);
            }

            if (previous != target)
            {
                throw Defect("increments", $"sample {k}'s increments end at {previous} bits; the shard holds {target}.");
            }

            held.Load(k, entries);
        }

        if (_at != End)
        {
            throw Defect("increments", "bytes remain after every sample's increments.");
        }
    }

    /// <summary>Adds <paramref name="entry"/> after checking it follows <paramref name="previous"/> bits; returns its width.</summary>
    private int Check(int sample, List<ushort> entries, ushort entry, int previous, int target)
    {
        var width = entry >> 12;
        var layer = entry & 0xFFF;
        if (width <= previous || width > target || layer >= layers || (entries.Count > 0 && layer < (entries[^1] & 0xFFF)))
        {
            throw Defect("increments", $"sample {sample}: an increment to {width} bits in layer {layer} does not follow {previous} bits.");
        }

        entries.Add(entry);
        return width;
    }

    private uint Varint(string field) =>
        LayerEntries.ReadVarint(bytes, ref _at, End) ?? throw Defect(field, $"a varint at byte {_at} runs past the end of the file or past 32 bits.");

    private DqsFormatException Defect(string field, string message) => new(path, field, null, message);
}
