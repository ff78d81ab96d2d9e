using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Writes a copy of a shard at lower widths from its records alone (u' = u &gt;&gt; (b − b'), the pair refitted to the
/// record's values or s·2^(b−b') with the same shift when that is closer; <see cref="SampleQuantizer.Requantize"/>,
/// docs/format.md §6), dropping the samples whose new width is 0. The copy keeps the shard's place in its set: index,
/// source range and channel statistics. Both ways a shard shrinks (<see cref="Requantizer"/> over a set under a budget,
/// a device's per-file byte target) end here. The copy is version 2.0 when binary16 holds every kept sample's scale
/// (always, for a 2.0 shard) and 1.1 otherwise (a 1.x shard's float32 scales), so that its codes stay the shard's own.
/// </summary>
public static class DqsShardRewriter
{
    /// <summary>
    /// The layout a copy of <paramref name="shard"/> may take at most (every sample kept): what a byte budget for the
    /// copy counts. Keeping fewer samples, or refitted pairs (binary16 always), can only make a 1.x shard's copy 2.0, which costs less.
    /// </summary>
    public static DqsIndexLayout LayoutBound(DqsReader shard)
    {
        ArgumentNullException.ThrowIfNull(shard);
        var h = shard.Header;
        var version = 2;
        for (var i = 0; i < shard.Count && version == 2; i++)
        {
            version = DqsScale.IsExact(shard.Record(i).Scale) ? 2 : 1;
        }

        return DqsIndexLayout.For(version, h.Channels, h.ClassCount, h.PixelsPerSample);
    }

    /// <param name="shard">The shard as it is (a planes shard has its planes cut instead: <see cref="Planes.PlaneShardRewriter"/>).</param>
    /// <param name="widths">The new width of each of its samples, at most the current one; 0 drops the sample.</param>
    /// <param name="destinationPath">Written atomically (<see cref="DqsShardWriter"/>); may be the shard's own path.</param>
    public static void Write(DqsReader shard, ReadOnlySpan<byte> widths, string destinationPath, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(shard);
        if (shard.IsPlanes)
        {
            // Nested codes: the copy cuts each sample's planes, nothing is refitted.
            Planes.PlaneShardRewriter.Write(shard, widths, destinationPath, cancellationToken);
            return;
        }

        if (widths.Length != shard.Count)
        {
            throw new ArgumentException($"{widths.Length} widths for the {shard.Count} samples of {shard.Path}.", nameof(widths));
        }

        // The new pairs are fitted first: whether binary16 holds them all decides the copy's version before any byte is written.
        var h = shard.Header;
        var pixels = shard.PixelsPerSample;
        var mean = h.ChannelMean.ToArray();
        var plane = h.Height * h.Width;
        var codes = new byte[pixels];
        var pairs = new QuantizationParameters[widths.Length];
        var kept = 0;
        var allExact = true;
        for (var i = 0; i < widths.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (widths[i] > 0)
            {
                var record = shard.Record(i);
                shard.ReadCodes(i, codes);
                pairs[i] = SampleQuantizer.Requantize(codes, record.Bits, widths[i], record.Parameters, mean, plane, codes);
                kept++;
                allExact &= DqsScale.IsExact(pairs[i].Scale);
            }
        }

        var template = new DqsHeader(h.Channels, h.Height, h.Width, h.ClassCount, kept, h.ShardIndex, h.ShardCount, h.FirstSourceIndex,
            h.SourceCount, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation])
        {
            VersionMajor = allExact ? DqsConstants.VersionMajor : 1,
        };
        var packed = new byte[pixels];
        using var writer = new DqsShardWriter(destinationPath, template);
        for (var i = 0; i < widths.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var to = widths[i];
            if (to == 0)
            {
                continue;
            }

            var record = shard.Record(i);
            shard.ReadCodes(i, codes);
            for (var p = 0; p < pixels; p++)
            {
                codes[p] = (byte)(codes[p] >> (record.Bits - to));
            }

            var length = SampleQuantizer.PackedBytes(pixels, to);
            DqsBitPacking.Pack(codes, to, packed.AsSpan(0, length));
            writer.Append(record.Label, to, pairs[i], packed.AsSpan(0, length));
        }

        writer.Commit();
    }
}
