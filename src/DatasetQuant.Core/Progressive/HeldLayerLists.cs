namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The lists of held increments version 2 (<see cref="HeldIncrementsFile"/>) as increments arrive: per layer, how many
/// samples it raised from nothing and which samples it raised further (sorted, as the file stores them by gaps), and
/// the bytes all of that takes. Kept up to date one increment at a time, so that a layer builder can ask the held size
/// after every increment of an order.
/// </summary>
internal sealed class HeldLayerLists
{
    private readonly List<int> _newPerLayer = [];
    private readonly List<List<int>> _laterPerLayer = [];
    private static readonly List<int> NoSamples = [];

    /// <summary>Bytes of every layer's sample gaps.</summary>
    private long _gapBytes;

    /// <summary>Bits of every increment's width step (<see cref="StepBits"/>).</summary>
    private long _stepBits;

    public int NewIn(int layer) => layer < _newPerLayer.Count ? _newPerLayer[layer] : 0;

    public IReadOnlyList<int> LaterIn(int layer) => layer < _laterPerLayer.Count ? _laterPerLayer[layer] : [];

    /// <summary>A width step costs one bit when it is 1 and four otherwise (a flag, then the step less two in three bits).</summary>
    public static int StepBits(int step) => step == 1 ? 1 : 4;

    /// <summary>The bytes of the lists for <paramref name="layers"/> layers: two varints per layer, the gaps and the steps.</summary>
    public long Bytes(int layers)
    {
        long bytes = _gapBytes + ((_stepBits + 7) / 8);
        for (var l = 0; l < layers; l++)
        {
            bytes += LayerEntries.VarintSize((uint)NewIn(l)) + LayerEntries.VarintSize((uint)LaterIn(l).Count);
        }

        return bytes;
    }

    public void AddFirst(int layer, int step)
    {
        Reach(layer);
        _newPerLayer[layer]++;
        _stepBits += StepBits(step);
    }

    public void AddLater(int layer, int sample, int step)
    {
        Reach(layer);
        var list = _laterPerLayer[layer];
        _gapBytes += GapGrowth(list, sample, out var at);
        list.Insert(at, sample);
        _stepBits += StepBits(step);
    }

    /// <summary>
    /// The bytes of the lists for <paramref name="layers"/> layers once <paramref name="layer"/> also raises
    /// <paramref name="sample"/> by <paramref name="step"/> (from nothing when <paramref name="first"/>), without
    /// recording it: what a layer builder asks before deciding where a layer ends.
    /// </summary>
    public long BytesWith(int layers, int layer, bool first, int sample, int step)
    {
        var gaps = _gapBytes + (first ? 0 : GapGrowth(layer < _laterPerLayer.Count ? _laterPerLayer[layer] : NoSamples, sample, out _));
        long bytes = gaps + ((_stepBits + StepBits(step) + 7) / 8);
        for (var l = 0; l < layers; l++)
        {
            var (added, later) = l == layer ? (first ? 1 : 0, first ? 0 : 1) : (0, 0);
            bytes += LayerEntries.VarintSize((uint)(NewIn(l) + added)) + LayerEntries.VarintSize((uint)(LaterIn(l).Count + later));
        }

        return bytes;
    }

    public void Clear()
    {
        _newPerLayer.Clear();
        _laterPerLayer.Clear();
        (_gapBytes, _stepBits) = (0, 0);
    }

    /// <summary>What a layer's sample gaps grow by when it also lists <paramref name="sample"/>, and where it goes (after its equals).</summary>
    private static int GapGrowth(List<int> list, int sample, out int at)
    {
        at = list.BinarySearch(sample);
        at = at < 0 ? ~at : at;
        while (at < list.Count && list[at] == sample)
        {
            at++;
        }

        var previous = at > 0 ? list[at - 1] : 0;
        var growth = LayerEntries.VarintSize((uint)(sample - previous));
        if (at < list.Count)
        {
            growth += LayerEntries.VarintSize((uint)(list[at] - sample)) - LayerEntries.VarintSize((uint)(list[at] - previous));
        }

        return growth;
    }

    private void Reach(int layer)
    {
        while (_newPerLayer.Count <= layer)
        {
            _newPerLayer.Add(0);
            _laterPerLayer.Add([]);
        }
    }
}
