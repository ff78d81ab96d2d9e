using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// A device's copy of a progressively delivered dataset: one shard <c>{name}.dqs</c> (every source sample the prefix
/// keeps, at its width there) and <c>{name}.dqo</c>, the increments of the order it holds. Applying the next layers
/// merges their bit planes into the codes (u ← u·2^d + planes, s ← s / 2^d); shrinking to fewer increments shifts the
/// codes right (docs/format.md §6, "Re-quantization") with no download. Each file is replaced atomically, the shard
/// first: a shard whose widths differ from its order's is refused on open (<see cref="Open"/>), and the dataset is
/// then fetched again.
/// </summary>
public sealed class ProgressiveHoldings
{
    private ProgressiveHoldings(string directory, string name, IncrementOrder? order)
    {
        (Directory, Name, Order) = (directory, name, order);
    }

    public string Directory { get; }

    public string Name { get; }

    /// <summary>The increments held; null before the first layer.</summary>
    public IncrementOrder? Order { get; private set; }

    public string ShardPath => Path.Combine(Directory, Name + DqsConstants.FileExtension);

    public string OrderPath => Path.Combine(Directory, IncrementOrder.FileName(Name));

    public int IncrementCount => Order?.Increments.Count ?? 0;

    /// <summary>Bytes on flash: the shard and the held order.</summary>
    public long HeldBytes => Order is null ? 0 : new FileInfo(ShardPath).Length + new FileInfo(OrderPath).Length;

    /// <summary>Opens what is held in <paramref name="directory"/>, checking that the shard's widths are its order's.</summary>
    public static ProgressiveHoldings Open(string directory, string name)
    {
        var holdings = new ProgressiveHoldings(directory, name, null);
        if (!File.Exists(holdings.OrderPath))
        {
            return holdings;
        }

        var order = IncrementOrder.Read(holdings.OrderPath);
        using var shard = DqsReader.Open(holdings.ShardPath);
        var widths = new byte[order.SampleCount];
        order.WidthsAfter(order.Increments.Count, widths);
        var stored = 0;
        for (var i = 0; i < widths.Length; i++)
        {
            if (widths[i] > 0 && (stored >= shard.Count || shard.Bits(stored++) != widths[i]))
            {
                throw new DqsFormatException(holdings.ShardPath, "bits", stored - 1, $"the shard's widths are not those of its {order.Increments.Count} held increments.");
            }
        }

        if (stored != shard.Count || shard.Header.SourceCount != order.SampleCount)
        {
            throw new DqsFormatException(holdings.ShardPath, "sampleCount", null, $"the shard stores {shard.Count} samples; its held increments keep {stored}.");
        }

        holdings.Order = order;
        return holdings;
    }

    /// <summary>Merges the next layers (each must start where the holdings end) and rewrites the shard and the order.</summary>
    public void Apply(IReadOnlyList<byte[]> layers, IReadOnlyList<string> names)
    {
        var parsed = new List<(LayerHeader Header, LayerIncrement[] Increments)>();
        var expected = IncrementCount;
        for (var l = 0; l < layers.Count; l++)
        {
            var (header, increments) = LayerFile.Decode(layers[l], names[l]);
            if (header.FirstIncrement != expected)
            {
                throw new DqsFormatException(names[l], "firstIncrement", null, $"the layer starts at increment {header.FirstIncrement}; the holdings end at {expected}.");
            }

            if (Order is not null && (header.SampleCount != Order.SampleCount || header.PixelsPerSample != Order.PixelsPerSample))
            {
                throw new DqsFormatException(names[l], "sampleCount", null, "the layer belongs to another dataset than the one held.");
            }

            expected += increments.Length;
            parsed.Add((header, increments));
        }

        if (parsed.Count == 0)
        {
            return;
        }

        var first = parsed[0].Header;
        var all = new List<Increment>(expected);
        if (Order is not null)
        {
            all.AddRange(Order.Increments);
        }

        var added = new Dictionary<int, List<LayerIncrement>>();
        foreach (var (_, increments) in parsed)
        {
            foreach (var increment in increments)
            {
                all.Add(new Increment(increment.Sample, increment.To));
                if (!added.TryGetValue(increment.Sample, out var list))
                {
                    added[increment.Sample] = list = [];
                }

                list.Add(increment);
            }
        }

        // The constructor checks that every increment raises its sample: layers out of order or repeated cannot pass.
        var order = new IncrementOrder(first.SampleCount, first.PixelsPerSample, all);
        WriteShard(first, order, added);
        order.Write(OrderPath);
        Order = order;
    }

    /// <summary>Keeps only the first <paramref name="increments"/> increments: a local re-quantization, nothing fetched.</summary>
    public void TruncateTo(int increments)
    {
        if (Order is null || increments >= Order.Increments.Count)
        {
            return;
        }

        var order = Order.Prefix(increments);
        var current = new byte[order.SampleCount];
        Order.WidthsAfter(Order.Increments.Count, current);
        var widths = new byte[order.SampleCount];
        order.WidthsAfter(increments, widths);
        using (var shard = DqsReader.Open(ShardPath))
        {
            var kept = new byte[shard.Count];
            for (int i = 0, stored = 0; i < widths.Length; i++)
            {
                if (current[i] > 0)
                {
                    kept[stored++] = widths[i];
                }
            }

            DqsShardRewriter.Write(shard, kept, ShardPath);
        }

        order.Write(OrderPath);
        Order = order;
    }

    private void WriteShard(LayerHeader layer, IncrementOrder order, Dictionary<int, List<LayerIncrement>> added)
    {
        var pixels = layer.PixelsPerSample;
        var current = new byte[order.SampleCount];
        Order?.WidthsAfter(Order.Increments.Count, current);
        var widths = new byte[order.SampleCount];
        order.WidthsAfter(order.Increments.Count, widths);
        var kept = widths.Count(w => w > 0);
        var template = new DqsHeader(layer.Channels, layer.Height, layer.Width, layer.ClassCount, kept, 0, 1, 0, order.SampleCount, 0,
            layer.ChannelMean, layer.ChannelStandardDeviation);
        var codes = new byte[pixels];
        var planes = new byte[pixels];
        var packed = new byte[pixels];
        using var old = Order is null ? null : DqsReader.Open(ShardPath);
        using var writer = new DqsShardWriter(ShardPath, template);
        var stored = 0;
        for (var i = 0; i < widths.Length; i++)
        {
            var (from, to) = (current[i], widths[i]);
            int label = 0;
            var parameters = default(QuantizationParameters);
            if (from > 0)
            {
                var record = old!.Record(stored);
                old.ReadCodes(stored++, codes);
                (label, parameters) = (record.Label, record.Parameters);
            }

            if (to == 0)
            {
                continue;
            }

            if (to > from)
            {
                foreach (var increment in added[i])
                {
                    var d = increment.To - increment.From;
                    if (increment.From == 0)
                    {
                        Array.Clear(codes);
                        (label, parameters) = (increment.Label, new QuantizationParameters(increment.Scale8, increment.Shift));
                        parameters = parameters with { Scale = increment.Scale8 * (1 << SampleQuantizer.MaxBits) };
                    }

                    DqsBitPacking.Unpack(increment.Planes.Span, d, 0, planes);
                    for (var p = 0; p < pixels; p++)
                    {
                        codes[p] = (byte)((codes[p] << d) | planes[p]);
                    }

                    parameters = parameters with { Scale = parameters.Scale / (1 << d) };
                }
            }

            var length = SampleQuantizer.PackedBytes(pixels, to);
            DqsBitPacking.Pack(codes, to, packed);
            writer.Append(label, to, parameters, packed.AsSpan(0, length));
        }

        writer.Commit();
    }
}
