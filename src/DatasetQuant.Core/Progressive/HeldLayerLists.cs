using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// The lists of held increments versions 2 and 3 (<see cref="HeldIncrementsFile"/>) as increments arrive: per layer, how
/// many samples it raised from nothing and which samples it raised further (sorted, as the file stores them by gaps),
/// and the bytes all of that takes in either version (3 leaves out each sample's last width step). Kept up to date one
/// increment at a time, so that a layer builder can ask the held size after every increment of an order.
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

    /// <summary>Bits of each held sample's last width step, which version 3 leaves out (the shard's width implies it).</summary>
    private long _lastStepBits;

    /// <summary>The sum of the held samples' widths, which version 3 stores so that a shard from another change is told apart.</summary>
    private long _widthSum;

    /// <summary>Bytes of the two counts of every layer the lists reach, kept up to date so a size costs no pass over the layers.</summary>
    private long _countBytes;

    public long WidthSum => _widthSum;

    public int NewIn(int layer) => layer < _newPerLayer.Count ? _newPerLayer[layer] : 0;

    public IReadOnlyList<int> LaterIn(int layer) => layer < _laterPerLayer.Count ? _laterPerLayer[layer] : [];

    /// <summary>A width step costs one bit when it is 1 and four otherwise (a flag, then the step less two in three bits).</summary>
    public static int StepBits(int step) => step == 1 ? 1 : 4;

    /// <summary>
    /// The bytes of the lists in <paramref name="version"/> (2 or 3) for <paramref name="layers"/> layers: two varints
    /// per layer, the gaps and the steps.
    /// </summary>
    public long Bytes(int layers, int version) => WidthSumBytes(_widthSum, version) + _gapBytes + StepBytes(_stepBits, _lastStepBits, version) + CountsBytes(layers);

    public void AddFirst(int layer, int step)
    {
        Reach(layer);
        var before = CountBytes(layer);
        _newPerLayer[layer]++;
        _countBytes += CountBytes(layer) - before;
        _stepBits += StepBits(step);
        _lastStepBits += StepBits(step);
        _widthSum += step;
    }

    /// <summary>Records that <paramref name="layer"/> raised <paramref name="sample"/> by <paramref name="step"/> after its step of <paramref name="previousStep"/>.</summary>
    public void AddLater(int layer, int sample, int previousStep, int step)
    {
        Reach(layer);
        var before = CountBytes(layer);
        var list = _laterPerLayer[layer];
        _gapBytes += GapGrowth(list, sample, out var at);
        list.Insert(at, sample);
        _countBytes += CountBytes(layer) - before;
        _stepBits += StepBits(step);
        _lastStepBits += StepBits(step) - StepBits(previousStep);
        _widthSum += step;
    }

    /// <summary>
    /// The bytes of the lists in <paramref name="version"/> for <paramref name="layers"/> layers once
    /// <paramref name="layer"/> also raises <paramref name="sample"/> by <paramref name="step"/> (from nothing when
    /// <paramref name="previousStep"/> is 0, else after a step of that size), without recording it: what a layer builder
    /// asks before deciding where a layer ends.
    /// </summary>
    public long BytesWith(int layers, int version, int layer, int sample, int previousStep, int step)
    {
        var first = previousStep == 0;
        var gaps = _gapBytes + (first ? 0 : GapGrowth(layer < _laterPerLayer.Count ? _laterPerLayer[layer] : NoSamples, sample, out _));
        var counts = CountsBytes(layers) - CountBytes(layer)
            + Leb128.Size((uint)(NewIn(layer) + (first ? 1 : 0))) + Leb128.Size((uint)(LaterIn(layer).Count + (first ? 0 : 1)));
        var lastStepBits = _lastStepBits + StepBits(step) - (first ? 0 : StepBits(previousStep));
        return WidthSumBytes(_widthSum + step, version) + gaps + StepBytes(_stepBits + StepBits(step), lastStepBits, version) + counts;
    }

    public void Clear()
    {
        _newPerLayer.Clear();
        _laterPerLayer.Clear();
        (_gapBytes, _stepBits, _lastStepBits, _widthSum, _countBytes) = (0, 0, 0, 0, 0);
    }

    private static long StepBytes(long stepBits, long lastStepBits, int version) => ((version >= 3 ? stepBits - lastStepBits : stepBits) + 7) / 8;

    private static int WidthSumBytes(long widthSum, int version) => version >= 3 ? Leb128.Size((uint)widthSum) : 0;

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
        var growth = Leb128.Size((uint)(sample - previous));
        if (at < list.Count)
        {
            growth += Leb128.Size((uint)(list[at] - sample)) - Leb128.Size((uint)(list[at] - previous));
        }

        return growth;
    }

    private void Reach(int layer)
    {
        while (_newPerLayer.Count <= layer)
        {
            _newPerLayer.Add(0);
            _laterPerLayer.Add([]);
            _countBytes += 2; // two counts of 0
        }
    }

    /// <summary>The bytes of a layer's two counts (two zero counts, 2 bytes, for a layer the lists do not reach).</summary>
    private int CountBytes(int layer) => Leb128.Size((uint)NewIn(layer)) + Leb128.Size((uint)LaterIn(layer).Count);

    /// <summary>The counts of <paramref name="layers"/> layers: those the lists reach, and two zero counts for each beyond.</summary>
    private long CountsBytes(int layers)
    {
        if (layers >= _newPerLayer.Count)
        {
            return _countBytes + (2L * (layers - _newPerLayer.Count));
        }

        long bytes = 0;
        for (var l = 0; l < layers; l++)
        {
            bytes += CountBytes(l);
        }

        return bytes;
    }
}
