using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Formats.Dqs.Planes;

/// <summary>
/// A copy of a planes shard with fewer planes (docs/format.md §14): each kept sample keeps the segments of its first k
/// planes, as they are (the codes are nested, so nothing is re-coded), and a sample cut to 0 planes is dropped. The copy
/// keeps the shard's place in its set, its channel statistics and its model. What <see cref="DqsShardRewriter"/> does
/// for a planes shard, and so how a device holding a planes set's layers drops to fewer.
/// </summary>
public static class PlaneShardRewriter
{
    /// <param name="shard">The planes shard as it is.</param>
    /// <param name="planes">The new plane count of each of its samples, at most the current one; 0 drops the sample.</param>
    /// <param name="destinationPath">Written atomically; may be the shard's own path.</param>
    public static void Write(DqsReader shard, ReadOnlySpan<byte> planes, string destinationPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (planes.Length != shard.Count)
        {
            ThrowInvalid(shard, planes, 0);
        }

        var kept = 0;
        for (var i = 0; i < planes.Length; i++)
        {
            if (planes[i] > shard.Planes(i))
            {
                ThrowInvalid(shard, planes, i);
            }

            kept += planes[i] > 0 ? 1 : 0;
        }

        var h = shard.Header;
        var template = new DqsHeader(h.Channels, h.Height, h.Width, h.ClassCount, kept, h.ShardIndex, h.ShardCount, h.FirstSourceIndex,
            h.SourceCount, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation]);
        using var writer = new PlaneShardWriter(destinationPath, template, shard.PlaneModel);
        Span<int> lengths = stackalloc int[PlaneCoder.Planes];
        for (var i = 0; i < planes.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (planes[i] == 0)
            {
                continue;
            }

            var segments = shard.PlaneSegments(i, lengths, out _);
            var bytes = 0;
            for (var k = 0; k < planes[i]; k++)
            {
                bytes += lengths[k];
            }

            writer.Append(shard.Label(i), shard.Grid(i), lengths[..planes[i]], segments[..bytes]);
        }

        writer.Commit();
    }

    [DoesNotReturn]
    private static void ThrowInvalid(DqsReader shard, ReadOnlySpan<byte> planes, int sample) => throw new ArgumentException(planes.Length != shard.Count
        ? $"{planes.Length} plane counts for the {shard.Count} samples of {shard.Path}."
        : $"sample {sample} of {shard.Path} holds {shard.Planes(sample)} planes; a copy cannot give it {planes[sample]}.", nameof(planes));
}
