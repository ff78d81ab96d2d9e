using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// What a device must remember of the layers it applied to shrink later without a download: for every source sample, the
/// width each of its increments reached and the layer that brought it. Stored as <c>{name}.dqh</c> (docs/format.md §13,
/// <see cref="HeldIncrementsFile"/>). When the held samples are 0..m−1 and their first increments came in that order, as
/// they do for a dataset numbered by <see cref="SampleNumbering"/>, a sample's first layer follows from how many new
/// samples each layer brought; the later layers are written in the version the manifest counts
/// (<see cref="NumberedVersion"/>): version 4, each sample's layer gaps as Rice codes (<see cref="HeldLayerDeltas"/>,
/// 3–5 bits an increment on small images, 7–8 on 28×28 ones), or versions 3 and 2, each layer's further raised samples
/// by their gaps (about a byte each) beside a bit or four per width step (3 leaving out each sample's last). Otherwise
/// version 1, two bytes per increment.
/// </summary>
public sealed class HeldIncrements
{
    public const string FileExtension = ".dqh";

    /// <summary>Layers a device can tell apart (12 bits per increment in version 1).</summary>
    public const int MaxLayers = 4096;

    /// <summary>The newest version, which a reader of this build reads with all before it.</summary>
    public const int LatestVersion = 4;

    /// <summary>
    /// Each held sample's increments, by sample: only samples that hold some, so that what a device keeps grows with
    /// what it holds and a sample count read from a file (a layer's, a shard's) sizes nothing.
    /// </summary>
    private readonly Dictionary<int, List<ushort>> _bySample = [];

    /// <summary>The keys of <see cref="_bySample"/> in number order (the order of the shard's records).</summary>
    private readonly List<int> _sampleNumbers = [];
    private readonly HeldLayerLists _lists = new();
    private readonly HeldLayerDeltas _deltas = new();
    private int _numberedVersion = LatestVersion;

    public HeldIncrements(int sampleCount, int pixelsPerSample)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sampleCount);
        (SampleCount, PixelsPerSample) = (sampleCount, pixelsPerSample);
    }

    public int SampleCount { get; }

    public int PixelsPerSample { get; }

    /// <summary>Increments held, over every sample.</summary>
    public int Count { get; private set; }

    /// <summary>Layers applied: the next layer to apply has this index.</summary>
    public int Layers { get; internal set; }

    /// <summary>Samples holding at least one increment.</summary>
    public int HeldSamples { get; private set; }

    /// <summary>Whether the held samples are 0..m−1 with their first increments in that order (versions 2 and 3 apply).</summary>
    public bool NumberedByFirstIncrement { get; private set; } = true;

    /// <summary>
    /// The version written while <see cref="NumberedByFirstIncrement"/>: 4 (the default), or 3 or 2, which a device
    /// writes for a manifest that counted held sizes in it (docs/protocol.md §3: formats 4 and 5, formats 2 and 3). Only
    /// its lists are kept up to date as increments arrive; a change of version rebuilds them from the increments.
    /// </summary>
    public int NumberedVersion
    {
        get => _numberedVersion;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThan(value, 2);
            ArgumentOutOfRangeException.ThrowIfGreaterThan(value, LatestVersion);
            if (value != _numberedVersion)
            {
                _numberedVersion = value;
                Recount();
            }
        }
    }

    /// <summary>Whether <see cref="NumberedVersion"/> writes version 4's gaps (else versions 2 and 3's lists).</summary>
    private bool WritesGaps => _numberedVersion >= 4;

    /// <summary>The version <see cref="Write"/> writes now.</summary>
    public int Version => NumberedByFirstIncrement ? NumberedVersion : 1;

    /// <summary>The version of the file these were last read from or written to; 0 before either.</summary>
    public int FileVersion { get; internal set; }

    /// <summary>The lists of versions 2 and 3: what each layer brought (up to date while <see cref="NumberedVersion"/> is 2 or 3).</summary>
    internal HeldLayerLists Lists => _lists;

    /// <summary>The lists of version 4: what each layer brought new, and every sample's layer gaps (up to date while it is 4).</summary>
    internal HeldLayerDeltas Deltas => _deltas;

    /// <summary>Bytes of the file <see cref="Write"/> writes now.</summary>
    public long FileBytes => !NumberedByFirstIncrement ? HeldIncrementsFile.Version1Bytes(SampleCount, Count)
        : HeldIncrementsFile.ListsFrame + (WritesGaps ? _deltas.Bytes(Layers) : _lists.Bytes(Layers, NumberedVersion));

    /// <summary>
    /// Bytes of the file once layer <paramref name="layer"/> raises <paramref name="sample"/> to <paramref name="width"/>,
    /// as <see cref="Add"/> would make it, without adding: where a layer builder must end a layer to stay within a size.
    /// </summary>
    public long FileBytesWith(int sample, int width, int layer)
    {
        var first = WidthOf(sample) == 0;
        if (!NumberedByFirstIncrement || (first && sample != HeldSamples))
        {
            return HeldIncrementsFile.Version1Bytes(SampleCount, Count + 1);
        }

        var layers = Math.Max(Layers, layer + 1);
        var step = width - WidthOf(sample);
        if (!WritesGaps)
        {
            return HeldIncrementsFile.ListsFrame + _lists.BytesWith(layers, NumberedVersion, layer, sample, LastStep(sample), step);
        }

        var entries = EntriesOf(sample);
        var (n, gap) = first ? (0, 0) : (entries!.Count, layer - (entries[^1] & 0xFFF));
        var stepBitsGrowth = HeldLayerDeltas.StepBits(entries, width) - HeldLayerDeltas.StepBits(entries);
        return HeldIncrementsFile.ListsFrame + _deltas.BytesWith(layers, layer, n, gap, step, stepBitsGrowth);
    }

    public int WidthOf(int sample) => _bySample.TryGetValue(sample, out var list) && list.Count > 0 ? list[^1] >> 12 : 0;

    /// <summary>The samples that hold at least one increment, in number order (the order of the shard's records).</summary>
    internal List<int> HeldSampleNumbers()
    {
        var held = new List<int>(_sampleNumbers.Count);
        foreach (var sample in _sampleNumbers)
        {
            if (_bySample[sample].Count > 0)
            {
                held.Add(sample);
            }
        }

        return held;
    }

    /// <summary>The width step of the sample's last increment; 0 when it has none.</summary>
    private int LastStep(int sample) => _bySample.TryGetValue(sample, out var list) && list.Count > 0 ? StepOf(list, list.Count - 1) : 0;

    /// <summary>The width step of increment <paramref name="j"/> of a sample's <paramref name="entries"/> (the first from 0 bits).</summary>
    internal static int StepOf(IReadOnlyList<ushort> entries, int j) => (entries[j] >> 12) - (j > 0 ? entries[j - 1] >> 12 : 0);

    internal IReadOnlyList<ushort>? EntriesOf(int sample) => _bySample.GetValueOrDefault(sample);

    /// <summary>Records that layer <paramref name="layer"/> (the next one) raised <paramref name="sample"/> to <paramref name="width"/>.</summary>
    public void Add(int sample, int width, int layer)
    {
        if ((uint)sample >= (uint)SampleCount || (layer != Layers && layer != Layers - 1) || layer >= MaxLayers || width <= WidthOf(sample) || width > SampleQuantizer.MaxBits)
        {
            throw new ArgumentException($"layer {layer} cannot raise sample {sample} of {SampleCount} from {WidthOf(sample)} to {width} bits after {Layers} layers.");
        }

        if (!_bySample.TryGetValue(sample, out var list))
        {
            Track(sample, list = []);
        }

        var (previousStep, step) = (LastStep(sample), width - WidthOf(sample));
        var (stepBitsBefore, previousLayer) = (HeldLayerDeltas.StepBits(list), list.Count > 0 ? list[^1] & 0xFFF : 0);
        list.Add((ushort)((width << 12) | layer));
        var stepBitsGrowth = HeldLayerDeltas.StepBits(list) - stepBitsBefore;
        Count++;
        Layers = layer + 1;
        var first = list.Count == 1;
        if (first)
        {
            NumberedByFirstIncrement &= sample == HeldSamples;
            HeldSamples++;
        }

        if (WritesGaps && first)
        {
            _deltas.AddFirst(layer, step, stepBitsGrowth);
        }
        else if (WritesGaps)
        {
            _deltas.AddLater(list.Count - 1, layer - previousLayer, step, stepBitsGrowth);
        }
        else if (first)
        {
            _lists.AddFirst(layer, step);
        }
        else
        {
            _lists.AddLater(layer, sample, previousStep, step);
        }
    }

    /// <summary>Forgets every increment of layers ≥ <paramref name="layers"/>.</summary>
    public void TruncateTo(int layers)
    {
        foreach (var list in _bySample.Values)
        {
            list.RemoveAll(entry => (entry & 0xFFF) >= layers);
        }

        Layers = Math.Min(Layers, layers);
        Recount();
    }

    public void Write(string path) => HeldIncrementsFile.Write(this, path);

    /// <summary>
    /// Reads what <see cref="Write"/> wrote (any version) beside a shard covering <paramref name="sourceCount"/>
    /// samples of <paramref name="pixelsPerSample"/> pixels; <paramref name="storedWidths"/> (the shard's widths, in its
    /// order) tells where each stored sample's list ends. A defect, or a file that describes another shape, is a
    /// <see cref="Formats.Dqs.DqsFormatException"/> naming the file and field.
    /// </summary>
    public static HeldIncrements Read(string path, ReadOnlySpan<byte> storedWidths, int sourceCount, int pixelsPerSample) =>
        HeldIncrementsFile.Read(path, storedWidths, sourceCount, pixelsPerSample);

    /// <summary>Sets what a reader found; the counts follow from the entries.</summary>
    internal void Load(int sample, List<ushort> entries)
    {
        if (_bySample.ContainsKey(sample))
        {
            _bySample[sample] = entries;
        }
        else
        {
            Track(sample, entries);
        }
    }

    /// <summary>Adds a sample not held before, keeping <see cref="_sampleNumbers"/> in order (at its end, for a numbered set).</summary>
    private void Track(int sample, List<ushort> entries)
    {
        _bySample[sample] = entries;
        var at = _sampleNumbers.Count > 0 && _sampleNumbers[^1] > sample ? ~_sampleNumbers.BinarySearch(sample) : _sampleNumbers.Count;
        _sampleNumbers.Insert(at, sample);
    }

    /// <summary>Recomputes every count from the entries (after a truncation or a read).</summary>
    internal void Recount()
    {
        (Count, HeldSamples, NumberedByFirstIncrement) = (0, 0, true);
        _lists.Clear();
        _deltas.Clear();
        var lastFirstLayer = 0;
        foreach (var sample in HeldSampleNumbers())
        {
            var list = _bySample[sample];
            // In number order the first layers must not go back, or a reader could not tell them from the counts.
            NumberedByFirstIncrement &= sample == HeldSamples && (list[0] & 0xFFF) >= lastFirstLayer;
            lastFirstLayer = list[0] & 0xFFF;
            Count += list.Count;
            HeldSamples++;
            if (WritesGaps)
            {
                _deltas.AddFirst(lastFirstLayer, StepOf(list, 0), HeldLayerDeltas.StepBits(list));
            }
            else
            {
                _lists.AddFirst(lastFirstLayer, StepOf(list, 0));
            }

            for (var j = 1; j < list.Count; j++)
            {
                if (WritesGaps)
                {
                    _deltas.AddLater(j, (list[j] & 0xFFF) - (list[j - 1] & 0xFFF), StepOf(list, j), 0);
                }
                else
                {
                    _lists.AddLater(list[j] & 0xFFF, sample, StepOf(list, j - 1), StepOf(list, j));
                }
            }
        }
    }
}
