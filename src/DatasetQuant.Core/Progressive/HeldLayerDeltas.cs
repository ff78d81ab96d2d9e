using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The lists of held increments version 4 (docs/format.md §13) and their size as increments arrive. Versions 2 and 3
/// list, per layer, the samples it raised further by their gaps: about a byte per later increment, a tenth of what a
/// device holds of small images at 4 bits a pixel. Version 4 writes instead, per sample, the layer gap from each of its
/// increments to the next, which a greedy order keeps small and alike for a sample's n-th increment across samples, as
/// a Rice code whose parameter the writer picks per n (the fewest bits in all): 3–5 bits each on small images, 7–8
/// where hundreds of layers part a sample's planes. The size is kept up to date one increment at a time (bits per
/// parameter and n), so that a layer builder can ask it after every increment.
/// </summary>
internal sealed class HeldLayerDeltas
{
    /// <summary>Later increments a sample can have, and so Rice parameters a file stores: its widths 2..8 after the first.</summary>
    public const int Parameters = SampleQuantizer.MaxBits - 1;

    /// <summary>The largest parameter: gaps are below <see cref="HeldIncrements.MaxLayers"/> (2^12).</summary>
    public const int MaxParameter = 12;

    private readonly List<int> _newPerLayer = [];

    /// <summary>Bits of every later increment's gap under each parameter, by the increment's number (1 = a sample's second).</summary>
    private readonly long[,] _gapBits = new long[Parameters, MaxParameter + 1];

    private long _newCountBytes;
    private long _stepBits;
    private long _widthSum;

    public long WidthSum => _widthSum;

    public int NewIn(int layer) => layer < _newPerLayer.Count ? _newPerLayer[layer] : 0;

    /// <summary>The parameter for the gap before a sample's increment number <paramref name="n"/> (1..7): the one with the fewest bits, the smallest on a tie.</summary>
    public int Parameter(int n) => Best(n, -1, 0, out _);

    /// <summary>The bytes of the lists for <paramref name="layers"/> layers.</summary>
    public long Bytes(int layers) => Size(NewCountsBytes(layers), _widthSum, _stepBits, GapBits(-1, 0));

    /// <summary>
    /// The bytes once <paramref name="layer"/> raises a sample by <paramref name="step"/>, its increment number
    /// <paramref name="n"/> (0 for its first) <paramref name="gap"/> layers after its previous one, its step bits
    /// growing by <paramref name="stepBitsGrowth"/>; without recording it.
    /// </summary>
    public long BytesWith(int layers, int layer, int n, int gap, int step, int stepBitsGrowth)
    {
        var counts = NewCountsBytes(layers);
        if (n == 0)
        {
            counts += Leb128.Size((uint)(NewIn(layer) + 1)) - Leb128.Size((uint)NewIn(layer));
        }

        return Size(counts, _widthSum + step, _stepBits + stepBitsGrowth, GapBits(n, gap));
    }

    public void AddFirst(int layer, int step, int stepBits)
    {
        while (_newPerLayer.Count <= layer)
        {
            _newPerLayer.Add(0);
            _newCountBytes++;
        }

        _newCountBytes += Leb128.Size((uint)(_newPerLayer[layer] + 1)) - Leb128.Size((uint)_newPerLayer[layer]);
        _newPerLayer[layer]++;
        (_widthSum, _stepBits) = (_widthSum + step, _stepBits + stepBits);
    }

    public void AddLater(int n, int gap, int step, int stepBitsGrowth)
    {
        for (var k = 0; k <= MaxParameter; k++)
        {
            _gapBits[n - 1, k] += BitListWriter.RiceBits(gap, k);
        }

        (_widthSum, _stepBits) = (_widthSum + step, _stepBits + stepBitsGrowth);
    }

    public void Clear()
    {
        _newPerLayer.Clear();
        Array.Clear(_gapBits);
        (_newCountBytes, _stepBits, _widthSum) = (0, 0, 0);
    }

    /// <summary>
    /// The step bits of a sample whose widths are <paramref name="entries"/>' and then <paramref name="next"/> (0: none):
    /// none below 2 bits; else a flag, 0 when every step is 1, and after a 1 each step taken with two or more bits still
    /// to rise (a step taken with one left is 1).
    /// </summary>
    public static int StepBits(IReadOnlyList<ushort>? entries, int next = 0)
    {
        var held = entries?.Count ?? 0;
        var count = held + (next > 0 ? 1 : 0);
        var width = next > 0 ? next : count > 0 ? entries![^1] >> 12 : 0;
        if (width < 2 || count == width)
        {
            return width < 2 ? 0 : 1;
        }

        var (bits, previous) = (1, 0);
        for (var j = 0; j < count; j++)
        {
            var reached = j < held ? entries![j] >> 12 : next;
            bits += width - previous >= 2 ? BitListWriter.StepBits(reached - previous) : 0;
            previous = reached;
        }

        return bits;
    }

    private static long Size(long countBytes, long widthSum, long stepBits, long gapBits) =>
        Leb128.Size((uint)widthSum) + countBytes + Parameters + ((stepBits + gapBits + 7) / 8);

    private long GapBits(int n, int gap)
    {
        long bits = 0;
        for (var j = 1; j <= Parameters; j++)
        {
            Best(j, n, gap, out var least);
            bits += least;
        }

        return bits;
    }

    /// <summary>The best parameter for increment number <paramref name="j"/>, counting one more gap when <paramref name="n"/> is <paramref name="j"/>.</summary>
    private int Best(int j, int n, int gap, out long least)
    {
        Span<long> bits = stackalloc long[MaxParameter + 1];
        for (var k = 0; k <= MaxParameter; k++)
        {
            bits[k] = _gapBits[j - 1, k] + (n == j ? BitListWriter.RiceBits(gap, k) : 0);
        }

        var best = BitListWriter.FewestBits(bits);
        least = bits[best];
        return best;
    }

    private long NewCountsBytes(int layers)
    {
        if (layers >= _newPerLayer.Count)
        {
            return _newCountBytes + layers - _newPerLayer.Count;
        }

        long bytes = 0;
        for (var l = 0; l < layers; l++)
        {
            bytes += Leb128.Size((uint)_newPerLayer[l]);
        }

        return bytes;
    }
}
