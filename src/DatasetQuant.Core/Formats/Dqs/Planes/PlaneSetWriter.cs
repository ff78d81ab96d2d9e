using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Formats.Dqs.Planes;

/// <summary>
/// Writes a set quantized with the planes codec as shards <c>{prefix}-00000.dqs</c>, … (docs/format.md §14), each at
/// most <c>shardSize</c> bytes (a shard always holds at least one stored sample), every shard with the set's model.
/// Each kept sample's planes are coded again from its grid, as <see cref="PlaneTable"/> measured them.
/// </summary>
public static class PlaneSetWriter
{
    /// <summary>What a stored sample of <paramref name="planes"/> planes takes in its shard: its index bytes and segments.</summary>
    public static long StoredBytes(PlaneTable table, PlaneIndexLayout layout, int sample, int planes) =>
        planes == 0 ? 0 : layout.WholeBytesPerSample + table.SegmentBytes[(sample * SampleQuantizer.WidthCount) + planes];

    /// <summary>Splits source samples into shards: a new shard starts when the next stored sample would pass <paramref name="shardSize"/>.</summary>
    public static IReadOnlyList<DqsSetWriter.ShardPlan> Plan(PlaneTable table, ReadOnlySpan<byte> planes, PlaneIndexLayout layout, int channels, long shardSize)
    {
        var plans = new List<DqsSetWriter.ShardPlan>();
        int first = 0, stored = 0;
        long bytes = 0;
        for (var i = 0; i < planes.Length; i++)
        {
            if (planes[i] == 0)
            {
                continue;
            }

            var sample = StoredBytes(table, layout, i, planes[i]);
            var size = layout.SetAside(stored + 1, 1, channels) + bytes + sample;
            if (stored > 0 && size > shardSize)
            {
                plans.Add(new DqsSetWriter.ShardPlan(first, i - first, stored));
                (first, stored, bytes) = (i, 0, 0);
            }

            stored++;
            bytes += sample;
        }

        plans.Add(new DqsSetWriter.ShardPlan(first, planes.Length - first, stored));
        return plans;
    }

    public static IReadOnlyList<string> Write(ISampleSource source, ChannelStatistics statistics, PlaneTable table, ReadOnlySpan<byte> planes,
        string directory, string prefix, long shardSize, Action<int>? samplesDone = null, CancellationToken cancellationToken = default)
    {
        if (planes.Length != source.Count || table.Grids.Length != source.Count)
        {
            throw new ArgumentException($"{source.Count} samples need as many plane counts and grids; got {planes.Length} and {table.Grids.Length}.");
        }

        Directory.CreateDirectory(directory);
        var pixels = source.Channels * source.Height * source.Width;
        var layout = PlaneIndexLayout.For(DqsIndexLayout.Current(source.Channels, source.ClassCount, pixels));
        var plans = Plan(table, planes, layout, source.Channels, shardSize);
        var paths = new List<string>(plans.Count);
        var values = new float[pixels];
        var codes = new byte[pixels];
        var scratch = new byte[PlaneCoder.SegmentBound(pixels)];
        var segments = new byte[PlaneCoder.Planes * scratch.Length];
        Span<int> lengths = stackalloc int[PlaneCoder.Planes];
        for (var s = 0; s < plans.Count; s++)
        {
            var plan = plans[s];
            var path = Path.Combine(directory, DqsSetWriter.ShardName(prefix, s));
            var template = new DqsHeader(source.Channels, source.Height, source.Width, source.ClassCount, plan.SampleCount, s, plans.Count,
                plan.FirstSource, plan.SourceCount, 0, statistics.Mean, statistics.StandardDeviation);
            using var writer = new PlaneShardWriter(path, template, table.Model);
            for (var i = plan.FirstSource; i < plan.FirstSource + plan.SourceCount; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (planes[i] > 0)
                {
                    source.ReadPixels(i, values);
                    table.Grids[i].Encode(values, codes);
                    var length = PlaneCoder.EncodeSegments(codes, source.Channels, source.Height, source.Width, planes[i], table.Model, scratch, segments, lengths);
                    writer.Append(source.Label(i), table.Grids[i], lengths[..planes[i]], segments.AsSpan(0, length));
                }

                samplesDone?.Invoke(1);
            }

            writer.Commit();
            paths.Add(path);
        }

        DqsSetWriter.RemoveStale(directory, prefix, plans.Count);
        return paths;
    }
}
