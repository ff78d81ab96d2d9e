using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Writes a quantized dataset as shards <c>{prefix}-00000.dqs</c>, … in one folder, each at most <c>shardSize</c> bytes
/// (a shard always holds at least one stored sample). Each sample is quantized at its allocated width and scale.
/// Shards of an earlier run with the same prefix beyond the new count are removed.
/// </summary>
public static class DqsSetWriter
{
    public sealed record ShardPlan(int FirstSource, int SourceCount, int SampleCount);

    /// <summary>Splits source samples into shards: a new shard starts when the next stored sample would pass <paramref name="shardSize"/>.</summary>
    public static IReadOnlyList<ShardPlan> Plan(ReadOnlySpan<byte> bits, DqsIndexLayout layout, int pixelsPerSample, long shardSize)
    {
        var plans = new List<ShardPlan>();
        int first = 0, stored = 0;
        long payload = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            if (bits[i] == 0)
            {
                continue;
            }

            var length = SampleQuantizer.PackedBytes(pixelsPerSample, bits[i]);
            var size = layout.Overhead(stored + 1) + payload + length;
            if (stored > 0 && (size > shardSize || payload + length > uint.MaxValue))
            {
                plans.Add(new ShardPlan(first, i - first, stored));
                (first, stored, payload) = (i, 0, 0);
            }

            stored++;
            payload += length;
        }

        plans.Add(new ShardPlan(first, bits.Length - first, stored));
        return plans;
    }

    public static IReadOnlyList<string> Write(ISampleSource source, ChannelStatistics statistics, ReadOnlySpan<byte> bits, ReadOnlySpan<QuantizationParameters> parameters,
        string directory, string prefix, long shardSize, Action<int>? samplesDone = null, CancellationToken cancellationToken = default,
        ReadOnlySpan<QuantizationParameters> codeGrids = default)
    {
        if (bits.Length != source.Count || parameters.Length != source.Count || (!codeGrids.IsEmpty && codeGrids.Length != source.Count))
        {
            throw new ArgumentException($"{source.Count} samples need as many widths and quantizer parameters; got {bits.Length} and {parameters.Length} ({codeGrids.Length} code grids).");
        }

        Directory.CreateDirectory(directory);
        var pixels = source.Channels * source.Height * source.Width;
        var plane = source.Height * source.Width;
        var plans = Plan(bits, DqsIndexLayout.Current(source.Channels, source.ClassCount, pixels), pixels, shardSize);
        var paths = new List<string>(plans.Count);
        var values = new float[pixels];
        var codes = new byte[pixels];
        var packed = new byte[pixels];
        for (var s = 0; s < plans.Count; s++)
        {
            var plan = plans[s];
            var path = Path.Combine(directory, ShardName(prefix, s));
            var template = new DqsHeader(source.Channels, source.Height, source.Width, source.ClassCount, plan.SampleCount, s, plans.Count,
                plan.FirstSource, plan.SourceCount, 0, statistics.Mean, statistics.StandardDeviation);
            using var writer = new DqsShardWriter(path, template);
            for (var i = plan.FirstSource; i < plan.FirstSource + plan.SourceCount; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (bits[i] > 0)
                {
                    // The index stores binary16 scales and the decoder uses the stored one, so the codes are made with
                    // it (the encoder's fits already are; this covers parameters from elsewhere).
                    var stored = parameters[i] with { Scale = DqsScale.Round(parameters[i].Scale) };
                    source.ReadPixels(i, values);
                    // Embedded codes come from the sample's grid at that width; its record holds the width's own reconstruction.
                    var thresholds = codeGrids.IsEmpty ? stored : EmbeddedCode.GridAt(codeGrids[i], bits[i]);
                    SampleQuantizer.Quantize(values, statistics.Mean, plane, bits[i], thresholds, codes);
                    var length = SampleQuantizer.PackedBytes(pixels, bits[i]);
                    DqsBitPacking.Pack(codes, bits[i], packed);
                    writer.Append(source.Label(i), bits[i], stored, packed.AsSpan(0, length));
                }

                samplesDone?.Invoke(1);
            }

            writer.Commit();
            paths.Add(path);
        }

        RemoveStale(directory, prefix, plans.Count);
        return paths;
    }

    public static string ShardName(string prefix, int index) => $"{prefix}-{index:D5}{DqsConstants.FileExtension}";

    internal static void RemoveStale(string directory, string prefix, int count)
    {
        for (var s = count; File.Exists(Path.Combine(directory, ShardName(prefix, s))); s++)
        {
            File.Delete(Path.Combine(directory, ShardName(prefix, s)));
        }
    }
}
