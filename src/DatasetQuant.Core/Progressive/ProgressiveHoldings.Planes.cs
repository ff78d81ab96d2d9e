using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Formats.Dqs.Planes;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Applying a planes set's layers (version 4, docs/format.md §13–§14): each raised sample's new segments follow the ones
/// it holds, and a new sample takes its label and grid from its first entry; the set's model comes from the first layer,
/// or from the shard held. Nothing is re-coded, so the shard is the published one with each sample's planes cut to the
/// prefix, byte for byte.
/// </summary>
public sealed partial class ProgressiveHoldings
{
    private void WritePlanesShard(string firstName, LayerHeader layer, List<int> samples, Dictionary<int, List<LayerIncrement>> added)
    {
        using var old = Held is null ? null : DqsReader.Open(ShardPath);
        if (old is { IsPlanes: false })
        {
            throw new DqsFormatException(firstName, "versionMajor", null, $"a layer of planes cannot raise the fixed-width codes held in {ShardPath}.");
        }

        var model = old?.PlaneModel ?? layer.Model
            ?? throw new DqsFormatException(firstName, "model", null, "the first layer of a planes set carries its model; this one has none.");
        var template = new DqsHeader(layer.Channels, layer.Height, layer.Width, layer.ClassCount, samples.Count, 0, 1, 0, layer.SampleCount, 0,
            layer.ChannelMean, layer.ChannelStandardDeviation);
        using var writer = new PlaneShardWriter(ShardPath, template, model);
        var lengths = new int[PlaneCoder.Planes];
        var segments = new byte[PlaneCoder.Planes * PlaneCoder.SegmentBound(layer.PixelsPerSample)];
        var stored = 0;
        foreach (var i in samples)
        {
            var (from, to) = Widths(i, added);
            var (label, grid, bytes) = (0, default(PlaneGrid), 0);
            if (from > 0)
            {
                var held = old!.PlaneSegments(stored, lengths, out _);
                (label, grid) = (old.Label(stored), old.Grid(stored++));
                held.CopyTo(segments);
                bytes = held.Length;
            }

            foreach (var increment in to > from ? added[i] : [])
            {
                if (increment.From == 0)
                {
                    (label, grid) = (increment.Label, increment.Grid);
                }

                increment.SegmentLengths!.CopyTo(lengths, increment.From);
                increment.Planes.Span.CopyTo(segments.AsSpan(bytes));
                bytes += increment.Planes.Length;
            }

            writer.Append(label, grid, lengths.AsSpan(0, to), segments.AsSpan(0, bytes));
        }

        writer.Commit();
    }
}
