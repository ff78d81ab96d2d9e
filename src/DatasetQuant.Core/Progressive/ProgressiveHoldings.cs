using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// A device's copy of a progressively delivered dataset: one shard <c>{name}.dqs</c> (every source sample the prefix
/// keeps, at its width there) and <c>{name}.dqh</c> (<see cref="HeldIncrements"/>: which layer brought each width).
/// Applying the next layers merges their bit planes into the codes (u ← u·2^d + planes) and takes the record's pair from
/// the layer (version 3: each entry's reconstruction; versions 1 and 2: s₈·2^(8−b) and the shift); keeping fewer layers
/// re-quantizes the records (docs/format.md §6, "Re-quantization") with no download; a planes set's layers (version 4)
/// append segments instead, and fewer layers cut them (<see cref="WritePlanesShard"/>). Each file is replaced
/// atomically, the shard first; on open, held increments that do not match the shard's widths are refused, and the
/// dataset is then fetched again.
/// </summary>
public sealed partial class ProgressiveHoldings
{
    private ProgressiveHoldings(string directory, string name, int heldVersion) => (Directory, Name, HeldVersion) = (directory, name, heldVersion);

    public string Directory { get; }

    public string Name { get; }

    /// <summary>
    /// The held-increments version this copy writes for a numbered set (<see cref="HeldIncrements.NumberedVersion"/>):
    /// the one the manifest's held sizes count.
    /// </summary>
    public int HeldVersion { get; }

    /// <summary>What is held; null before the first layer.</summary>
    public HeldIncrements? Held { get; private set; }

    public string ShardPath => Path.Combine(Directory, Name + DqsConstants.FileExtension);

    public string HeldPath => Path.Combine(Directory, Name + HeldIncrements.FileExtension);

    public int IncrementCount => Held?.Count ?? 0;

    public int LayerCount => Held?.Layers ?? 0;

    /// <summary>Bytes on flash: the shard and the held increments.</summary>
    public long HeldBytes => Held is null ? 0 : new FileInfo(ShardPath).Length + new FileInfo(HeldPath).Length;

    /// <summary>
    /// Opens what is held in <paramref name="directory"/>, checking the held increments against the shard's widths; they
    /// are written in <paramref name="heldVersion"/> from the next change on (<see cref="TruncateTo"/> rewrites them
    /// when that is all that changes).
    /// </summary>
    public static ProgressiveHoldings Open(string directory, string name, int heldVersion = HeldIncrements.LatestVersion)
    {
        var holdings = new ProgressiveHoldings(directory, name, heldVersion);
        if (!File.Exists(holdings.HeldPath))
        {
            return holdings;
        }

        using var shard = DqsReader.Open(holdings.ShardPath);
        holdings.Held = HeldIncrements.Read(holdings.HeldPath, Widths(shard), shard.Header.SourceCount, shard.PixelsPerSample);
        holdings.Held.NumberedVersion = heldVersion;
        return holdings;
    }

    /// <summary>
    /// The held increments at <paramref name="heldPath"/> read against the shard at <paramref name="shardPath"/> (any
    /// names), checked as <see cref="Open"/> checks them: a copy received whole is checked where it lies, before it
    /// replaces anything.
    /// </summary>
    public static HeldIncrements ReadHeld(string shardPath, string heldPath)
    {
        using var shard = DqsReader.Open(shardPath);
        return HeldIncrements.Read(heldPath, Widths(shard), shard.Header.SourceCount, shard.PixelsPerSample);
    }

    /// <summary>What every layer applied to this copy must share with it: source samples, pixels per sample, classes.</summary>
    private (int Samples, int Pixels, int Classes) HeldShape()
    {
        using var shard = DqsReader.Open(ShardPath);
        return (Held!.SampleCount, Held.PixelsPerSample, shard.Header.ClassCount);
    }

    /// <summary>Each stored sample's width: its bits, or in a planes shard its planes.</summary>
    private static byte[] Widths(DqsReader shard)
    {
        var widths = new byte[shard.Count];
        for (var i = 0; i < widths.Length; i++)
        {
            widths[i] = (byte)(shard.IsPlanes ? shard.Planes(i) : shard.Bits(i));
        }

        return widths;
    }

    /// <summary>Merges the next layers (each must start where the holdings end) and rewrites the shard and the held increments.</summary>
    public void Apply(IReadOnlyList<byte[]> layers, IReadOnlyList<string> names)
    {
        var parsed = new List<(LayerHeader Header, LayerIncrement[] Increments, string Name)>();
        var (expectedIncrement, expectedLayer) = (IncrementCount, LayerCount);
        (int Samples, int Pixels, int Classes)? shape = Held is null ? null : HeldShape();
        for (var l = 0; l < layers.Count; l++)
        {
            var (header, increments) = LayerFile.Decode(layers[l], names[l]);
            if (header.FirstIncrement != expectedIncrement || header.LayerIndex != expectedLayer)
            {
                throw new DqsFormatException(names[l], "firstIncrement",
                    null, $"layer {header.LayerIndex} starts at increment {header.FirstIncrement}; the holdings end with layer {expectedLayer - 1} at increment {expectedIncrement}.");
            }

            if (l > 0 && LayerFile.IsPlanes(header.VersionMajor) != LayerFile.IsPlanes(parsed[0].Header.VersionMajor))
            {
                throw new DqsFormatException(names[l], "versionMajor", null, "a batch mixes layers of planes (versions 4 and 5) and of fixed-width codes.");
            }

            // Classes too: the shard written holds the earlier samples' labels under the layer's class count.
            var layerShape = (header.SampleCount, header.PixelsPerSample, header.ClassCount);
            shape ??= layerShape;
            if (shape != layerShape)
            {
                throw new DqsFormatException(names[l], shape.Value.Classes != header.ClassCount ? "classCount" : "sampleCount", null,
                    "the layer belongs to another dataset than the one held.");
            }

            (expectedIncrement, expectedLayer) = (expectedIncrement + increments.Length, expectedLayer + 1);
            parsed.Add((header, increments, names[l]));
        }

        if (parsed.Count == 0)
        {
            return;
        }

        // What the layers add, by sample; a sample's width is its last added increment's, else what it holds. Nothing is
        // kept per source sample, so that a layer's sample count (which nothing can check before a device's first layer)
        // sizes nothing.
        var first = parsed[0].Header;
        var holding = Held;
        var added = new Dictionary<int, List<LayerIncrement>>();
        foreach (var (_, increments, name) in parsed)
        {
            foreach (var increment in increments)
            {
                var width = added.TryGetValue(increment.Sample, out var list) ? list[^1].To : holding?.WidthOf(increment.Sample) ?? 0;
                if (increment.From != width)
                {
                    throw new DqsFormatException(name, "increments", null, $"an increment raises sample {increment.Sample} from {increment.From} bits; it holds {width}.");
                }

                if (list is null)
                {
                    added[increment.Sample] = list = [];
                }

                list.Add(increment);
            }
        }

        // The new shard's samples in number order: those held and those the layers bring.
        var samples = holding?.HeldSampleNumbers() ?? [];
        foreach (var sample in added.Keys)
        {
            if ((holding?.WidthOf(sample) ?? 0) == 0)
            {
                samples.Add(sample);
            }
        }

        samples.Sort();
        if (LayerFile.IsPlanes(first.VersionMajor))
        {
            WritePlanesShard(parsed[0].Name, first, samples, added);
        }
        else
        {
            WriteShard(first, samples, added);
        }

        var held = Held ?? new HeldIncrements(first.SampleCount, first.PixelsPerSample) { NumberedVersion = HeldVersion };
        foreach (var (header, increments, _) in parsed)
        {
            foreach (var increment in increments)
            {
                held.Add(increment.Sample, increment.To, header.LayerIndex);
            }
        }

        held.Write(HeldPath);
        Held = held;
    }

    /// <summary>
    /// Keeps only the first <paramref name="layers"/> layers: a local re-quantization, nothing fetched. Held increments
    /// of another version than <see cref="HeldVersion"/> are rewritten even when no layer goes, so that what is held
    /// is what the manifest counts.
    /// </summary>
    public void TruncateTo(int layers)
    {
        if (Held is null)
        {
            return;
        }

        if (layers >= Held.Layers)
        {
            if (Held.FileVersion != Held.Version)
            {
                Held.Write(HeldPath);
            }

            return;
        }

        // The shard's records are the held samples in number order; each keeps its width after the truncation (0 drops it).
        var held = Held.HeldSampleNumbers();
        Held.TruncateTo(layers);
        using (var shard = DqsReader.Open(ShardPath))
        {
            var kept = new byte[shard.Count];
            for (var k = 0; k < held.Count && k < kept.Length; k++)
            {
                kept[k] = (byte)Held.WidthOf(held[k]);
            }

            DqsShardRewriter.Write(shard, kept, ShardPath);
        }

        Held.Write(HeldPath);
    }

    /// <param name="samples">The samples the shard keeps once the layers are applied, in number order: every held one and every raised one.</param>
    /// <param name="added">The layers' increments by sample.</param>
    private void WriteShard(LayerHeader layer, List<int> samples, Dictionary<int, List<LayerIncrement>> added)
    {
        var pixels = layer.PixelsPerSample;
        var codes = new byte[pixels];
        var planes = new byte[pixels];
        var packed = new byte[pixels];
        using var old = Held is null ? null : DqsReader.Open(ShardPath);
        var template = new DqsHeader(layer.Channels, layer.Height, layer.Width, layer.ClassCount, samples.Count, 0, 1, 0, layer.SampleCount, 0,
            layer.ChannelMean, layer.ChannelStandardDeviation)
        {
            // As DqsShardRewriter decides for the coordinator's copy, so that the two stay byte-identical.
            VersionMajor = WrittenScalesExact(old, samples, added) ? DqsConstants.VersionMajor : 1,
        };
        using var writer = new DqsShardWriter(ShardPath, template);
        var stored = 0;
        foreach (var i in samples)
        {
            var (from, to) = Widths(i, added);
            var label = 0;
            var parameters = default(QuantizationParameters);
            if (from > 0)
            {
                var record = old!.Record(stored);
                old.ReadCodes(stored++, codes);
                (label, parameters) = (record.Label, record.Parameters);
            }

            foreach (var increment in to > from ? added[i] : [])
            {
                var d = increment.To - increment.From;
                if (increment.From == 0)
                {
                    Array.Clear(codes);
                }

                DqsBitPacking.Unpack(increment.Planes.Span, d, 0, planes);
                for (var p = 0; p < pixels; p++)
                {
                    codes[p] = (byte)((codes[p] << d) | planes[p]);
                }

                (label, parameters) = After(label, parameters, increment);
            }

            var length = SampleQuantizer.PackedBytes(pixels, to);
            DqsBitPacking.Pack(codes, to, packed);
            writer.Append(label, to, parameters, packed.AsSpan(0, length));
        }

        writer.Commit();
    }

    /// <summary>A record's label and pair once <paramref name="increment"/> has raised it.</summary>
    private static (int Label, QuantizationParameters Parameters) After(int label, QuantizationParameters parameters, LayerIncrement increment)
    {
        if (increment.Reconstruction is { } pair)
        {
            return (increment.From == 0 ? increment.Label : label, pair);
        }

        // Versions 1 and 2: a new sample starts from no bits, its scale "at width 0" s₈·2^8, halved with every plane.
        if (increment.From == 0)
        {
            (label, parameters) = (increment.Label, new QuantizationParameters(increment.Scale8 * (1 << SampleQuantizer.MaxBits), increment.Shift));
        }

        return (label, parameters with { Scale = parameters.Scale / (1 << (increment.To - increment.From)) });
    }

    /// <summary>A sample's width as held and once the layers are applied (held samples are written before <see cref="Held"/> changes).</summary>
    private (int From, int To) Widths(int sample, Dictionary<int, List<LayerIncrement>> added)
    {
        var from = Held?.WidthOf(sample) ?? 0;
        return (from, added.TryGetValue(sample, out var list) ? list[^1].To : from);
    }

    /// <summary>Whether binary16 holds the scale of every sample the new shard keeps.</summary>
    private bool WrittenScalesExact(DqsReader? old, List<int> samples, Dictionary<int, List<LayerIncrement>> added)
    {
        var stored = 0;
        foreach (var i in samples)
        {
            var (label, parameters) = (0, default(QuantizationParameters));
            var (from, to) = Widths(i, added);
            if (from > 0)
            {
                parameters = old!.Record(stored++).Parameters;
            }

            foreach (var increment in to > from ? added[i] : [])
            {
                (label, parameters) = After(label, parameters, increment);
            }

            if (!DqsScale.IsExact(parameters.Scale))
            {
                return false;
            }
        }

        return true;
    }
}
