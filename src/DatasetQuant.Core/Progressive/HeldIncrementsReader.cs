using System.Buffers.Binary;
using System.Numerics;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Parses the lists of a <c>.dqh</c> file after its header (<see cref="HeldIncrementsFile"/>), checking each against the
/// widths of the shard beside it; every defect names the file and field.
/// </summary>
internal sealed class HeldIncrementsReader(string path, byte[] bytes, int layers)
{
    private const int HeaderSize = 24;

    private int _at = HeaderSize;

    private int End => bytes.Length - 4;

    public void ReadVersion1(HeldIncrements held, ReadOnlySpan<byte> storedWidths)
    {
        var samples = held.SampleCount;
        // In long: the bitmap of 2^31 − 1 samples ends past int's range before the division.
        var bitmapBytes = (int)((samples + 7L) / 8);
        _at = HeaderSize + bitmapBytes;
        var stored = 0;
        // Byte by byte, each set bit lowest first (the stored samples in number order): a zero byte costs one test.
        for (var b = 0; b < bitmapBytes; b++)
        {
            for (var bits = (uint)bytes[HeaderSize + b]; bits != 0; bits &= bits - 1)
            {
                var i = (b * 8) + BitOperations.TrailingZeroCount(bits);
                if (i >= samples)
                {
                    break;
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
                    previous = Check(i, entries, entry >> 12, entry & 0xFFF, previous, target);
                    _at += 2;
                }

                held.Load(i, entries);
            }
        }

        if (_at != End || stored != storedWidths.Length)
        {
            throw Defect("increments", "increments remain after every sample's width was reached.");
        }
    }

    /// <summary>Versions 2 and 3; in 3 (<paramref name="lastStepsImplied"/>) each sample's last step is its width in the shard less the steps before.</summary>
    public void ReadLists(HeldIncrements held, ReadOnlySpan<byte> storedWidths, bool lastStepsImplied)
    {
        if (lastStepsImplied)
        {
            CheckWidthSum(storedWidths);
        }

        var firstLayer = ReadFirstLayers(held, storedWidths);
        var m = firstLayer.Count;
        var laterCounts = new int[layers];
        long later = 0;
        for (var l = 0; l < layers; l++)
        {
            laterCounts[l] = (int)Math.Min(Varint("laterIncrements"), (uint)(SampleQuantizer.MaxBits * (long)m));
            later += laterCounts[l];
            if (later > SampleQuantizer.MaxBits * (long)m)
            {
                throw Defect("laterIncrements", $"the layers add more increments than {m} samples can hold.");
            }
        }

        // Each listed sample takes at least a byte: a count the bytes left cannot hold allocates nothing.
        if (later > End - _at)
        {
            throw Defect("laterIncrements", $"the layers list {later} later increments; {End - _at} bytes remain for them.");
        }

        var laterSamples = new int[later];
        for (int l = 0, at = 0; l < layers; l++)
        {
            var sample = 0L;
            for (var j = 0; j < laterCounts[l]; j++)
            {
                sample += Varint("laterSamples");
                if (sample >= m)
                {
                    throw Defect("laterSamples", $"layer {l} raises sample {sample}; only samples below {m} are held.");
                }

                laterSamples[at++] = (int)sample;
            }
        }

        // Increments each sample has still to come, so that version 3 knows which one is its last.
        var remaining = new int[m];
        Array.Fill(remaining, 1);
        foreach (var sample in laterSamples)
        {
            remaining[sample]++;
        }

        var steps = new BitListReader(bytes, _at, End, path);
        var entries = new List<ushort>[m];
        var widths = new int[m];
        for (var k = 0; k < m; k++)
        {
            entries[k] = [];
            var step = lastStepsImplied && --remaining[k] == 0 ? storedWidths[k] : steps.ReadStep("steps");
            widths[k] = Check(k, entries[k], step, firstLayer[k], 0, storedWidths[k]);
        }

        for (int l = 0, at = 0; l < layers; l++)
        {
            for (var j = 0; j < laterCounts[l]; j++)
            {
                var sample = laterSamples[at++];
                var width = lastStepsImplied && --remaining[sample] == 0 ? storedWidths[sample] : widths[sample] + steps.ReadStep("steps");
                widths[sample] = Check(sample, entries[sample], width, l, widths[sample], storedWidths[sample]);
            }
        }

        for (var k = 0; k < m; k++)
        {
            if (widths[k] != storedWidths[k])
            {
                throw Defect("increments", $"sample {k}'s increments end at {widths[k]} bits; the shard holds {storedWidths[k]}.");
            }

            held.Load(k, entries[k]);
        }

        if (steps.End != End)
        {
            throw Defect("steps", "bytes remain after every increment's width step.");
        }

        if (!steps.PaddingIsZero)
        {
            throw Defect("steps", "the bits after the last width step are not zero.");
        }
    }

    /// <summary>The sum of the held samples' widths (versions 3 and 4), which must be the shard's.</summary>
    private void CheckWidthSum(ReadOnlySpan<byte> storedWidths)
    {
        var sum = Varint("widthSum");
        long shardSum = 0;
        foreach (var width in storedWidths)
        {
            shardSum += width;
        }

        if (sum != shardSum)
        {
            throw Defect("widthSum", $"the held samples' widths sum to {sum}; the shard's sum to {shardSum} (the two files were written by different changes).");
        }
    }

    /// <summary>Each layer's count of new samples: the layer of every held sample's first increment, in number order.</summary>
    private List<int> ReadFirstLayers(HeldIncrements held, ReadOnlySpan<byte> storedWidths)
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

        if (firstLayer.Count != storedWidths.Length)
        {
            throw Defect("newSamples", $"the layers brought {firstLayer.Count} samples; the shard stores {storedWidths.Length}.");
        }

        return firstLayer;
    }

    /// <summary>Version 4 (<see cref="HeldLayerDeltas"/>): per held sample its steps, then the layer gap before each later increment.</summary>
    public void ReadGaps(HeldIncrements held, ReadOnlySpan<byte> storedWidths)
    {
        CheckWidthSum(storedWidths);
        var firstLayer = ReadFirstLayers(held, storedWidths);
        Span<int> parameters = stackalloc int[HeldLayerDeltas.Parameters + 1];
        for (var n = 1; n <= HeldLayerDeltas.Parameters; n++)
        {
            parameters[n] = _at < End ? bytes[_at++] : throw Defect("parameters", "the Rice parameters run past the end of the file.");
            if (parameters[n] > HeldLayerDeltas.MaxParameter)
            {
                throw Defect("parameters", $"the Rice parameter of later increment {n} is {parameters[n]}, above {HeldLayerDeltas.MaxParameter}.");
            }
        }

        var bits = new BitListReader(bytes, _at, End, path);
        Span<int> reached = stackalloc int[SampleQuantizer.MaxBits];
        for (var k = 0; k < firstLayer.Count; k++)
        {
            var width = storedWidths[k];
            var count = width > 0 ? 0 : throw Defect("increments", $"sample {k} is stored at 0 bits.");
            if (width >= 2 && bits.Read("steps", 1) == 1)
            {
                for (var previous = 0; previous < width; count++)
                {
                    var step = width - previous >= 2 ? bits.ReadStep("steps") : 1;
                    reached[count] = previous += step;
                }
            }
            else
            {
                for (; count < width; count++)
                {
                    reached[count] = count + 1;
                }
            }

            var entries = new List<ushort>(count);
            var layer = firstLayer[k];
            for (var n = 0; n < count; n++)
            {
                layer += n == 0 ? 0 : bits.ReadRice("gaps", parameters[n], layers - 1 - layer, "a layer gap of sample", k);
                Check(k, entries, reached[n], layer, n == 0 ? 0 : reached[n - 1], width);
            }

            held.Load(k, entries);
        }

        if (bits.End != End)
        {
            throw Defect("gaps", "bytes remain after every sample's layer gaps.");
        }

        if (!bits.PaddingIsZero)
        {
            throw Defect("gaps", "the bits after the last layer gap are not zero.");
        }
    }

    /// <summary>Adds the increment to <paramref name="width"/> in <paramref name="layer"/> after checking it follows <paramref name="previous"/> bits; returns its width.</summary>
    private int Check(int sample, List<ushort> entries, int width, int layer, int previous, int target)
    {
        if (width <= previous || width > target || layer >= layers || (entries.Count > 0 && layer < (entries[^1] & 0xFFF)))
        {
            throw Defect("increments", $"sample {sample}: an increment to {width} bits in layer {layer} does not follow {previous} bits.");
        }

        entries.Add((ushort)((width << 12) | layer));
        return width;
    }

    private uint Varint(string field) =>
        Leb128.Read(bytes, ref _at, End) ?? throw Defect(field, $"a varint at byte {_at} runs past the end of the file or past 32 bits.");

    private DqsFormatException Defect(string field, string message) => new(path, field, null, message);
}
