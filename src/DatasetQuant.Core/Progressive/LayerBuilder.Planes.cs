using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Formats.Dqs.Planes;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// Layers of a planes set (codec 2, layer version 5, or 4 for older devices): each increment carries the range-coded
/// segments of the planes it adds, as the published shard stores them, and a new sample's grid; the first layer carries
/// the set's model. A
/// device appends segments and cuts them, so the copy it holds is the published shard with each sample's planes cut to
/// the prefix (docs/format.md §13, §14). Held sizes are a planes shard's: its fixed part (header, checksums, footer,
/// model), each stored sample's label, grid and plane count, its segments and their length varints.
/// </summary>
public static partial class LayerBuilder
{
    private static IReadOnlyList<LayerInfo> BuildPlanes(DqsShardSet set, IncrementOrder order, string outputDirectory, string prefix,
        long minimumBytes, double growth, SortedSet<long> cuts, int heldVersion, int version, CancellationToken cancellationToken)
    {
        var h = set.Header;
        var model = set.Shards[0].PlaneModel;
        var header = new LayerHeader(h.Channels, h.Height, h.Width, h.ClassCount, order.SampleCount, 0, 0, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation])
        {
            Model = model,
        };
        var layout = PlaneIndexLayout.For(DqsIndexLayout.Current(h.Channels, h.ClassCount, h.PixelsPerSample));
        var fixedBytes = h.HeaderSize + DqsConstants.ChecksumSize + DqsConstants.FooterSize;
        var widths = new byte[order.SampleCount];
        var lengths = new int[Quantization.Planes.PlaneCoder.Planes];
        var layers = new List<LayerInfo>();
        var pending = new List<LayerIncrement>();
        var heldIncrements = new HeldIncrements(order.SampleCount, h.PixelsPerSample) { NumberedVersion = heldVersion };
        int stored = 0, first = 0;
        long segmentBytes = 0, lastHeld = 0, pendingBytes = 0;
        long Shard(int samples, long segments) => fixedBytes + layout.LengthsAt(samples) + segments;
        for (var k = 0; k < order.Increments.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (sample, to) = order.Increments[k];
            var from = widths[sample];
            var (shard, index) = set.Locate(sample);
            var segments = shard.PlaneSegments(index, lengths, out var planes);
            if (to > planes)
            {
                throw new ArgumentException($"increment {k} lifts sample {sample} to {to} planes; its shard holds {planes}.");
            }

            var start = 0;
            for (var plane = 0; plane < from; plane++)
            {
                start += lengths[plane];
            }

            var added = 0L;
            for (var plane = from; plane < to; plane++)
            {
                added += lengths[plane] + Leb128.Size((uint)lengths[plane]);
            }

            var held = Shard(stored, segmentBytes) + heldIncrements.FileBytes;
            if (pending.Count > 0 && cuts.Count > 0)
            {
                var after = Shard(stored + (from == 0 ? 1 : 0), segmentBytes + added) + heldIncrements.FileBytesWith(sample, to, layers.Count);
                if (after > held && cuts.GetViewBetween(held, after - 1).Count > 0)
                {
                    EndLayer(k, held);
                }
            }

            var own = lengths[from..to];
            var bytes = 0;
            foreach (var length in own)
            {
                bytes += length;
            }

            pending.Add(new LayerIncrement(sample, from, to, shard.Label(index), 0f, 0, segments.Slice(start, bytes).ToArray())
            {
                SegmentLengths = own,
                Grid = from == 0 ? shard.Grid(index) : default,
            });
            stored += from == 0 ? 1 : 0;
            segmentBytes += added;
            widths[sample] = to;
            heldIncrements.Add(sample, to, layers.Count);
            held = Shard(stored, segmentBytes) + heldIncrements.FileBytes;
            pendingBytes += LayerEntries.PlanesLeastSize(version, h.ClassCount, from, own);
            if (k + 1 == order.Increments.Count || (held >= Math.Max(minimumBytes, lastHeld * (1 + growth)) && pendingBytes >= MinimumLayerBytes))
            {
                EndLayer(k + 1, held);
            }
        }

        return layers;

        void EndLayer(int next, long held)
        {
            WriteLayer(outputDirectory, prefix, header, first, pending, held, version, layers);
            (first, lastHeld) = (next, held);
            pendingBytes = 0;
        }
    }
}
