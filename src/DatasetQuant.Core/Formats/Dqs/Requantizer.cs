using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>What a re-quantization produced.</summary>
public sealed record RequantizeResult(IReadOnlyList<string> ShardPaths, long BudgetBytes, long PayloadBytesBefore, long PayloadBytesAfter,
    int SamplesBefore, int SamplesAfter, double MeanSquaredErrorAdded);

/// <summary>
/// Shrinks a shard set to a lower budget from its records alone (u' = u &gt;&gt; k, the pair refitted; see docs/format.md §6):
/// what a device does when its budget drops. Distortion is measured against the current reconstruction, widths can
/// only go down (when samples must be dropped, each class keeps its share, as in the first quantization), and each output shard keeps its input's source range and name. With the output folder equal to the
/// input folder the shards are replaced in place, each atomically (temp file, fsync, rename, fsync of the folder), so
/// a power cut leaves every shard either old or new, never torn.
/// </summary>
public static class Requantizer
{
    public static RequantizeResult Requantize(IReadOnlyList<string> paths, Budget budget, string outputDirectory, IBitAllocator? allocator = null,
        IProgress<QuantizeProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        allocator ??= new AdaptiveAllocator();
        using var set = DqsShardSet.Open(paths);
        var header = set.Header;
        var pixels = header.PixelsPerSample;
        var n = set.Count;
        var w = SampleQuantizer.WidthCount;
        var distortion = new double[(long)n * w];
        var maxBits = new byte[n];
        var labels = new int[n];
        var codes = new byte[pixels];
        var mean = header.ChannelMean.ToArray();
        var plane = header.Height * header.Width;
        long before = 0;
        for (var i = 0; i < n; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (shard, sample) = set.Locate(i);
            var record = shard.Record(sample);
            shard.ReadCodes(sample, codes);
            maxBits[i] = (byte)record.Bits;
            labels[i] = record.Label;
            before += SampleQuantizer.PackedBytes(pixels, record.Bits);
            MeasureFromCodes(codes, record.Bits, record.Parameters, mean, plane, distortion.AsSpan(i * w, w));
            if (i % 4096 == 0)
            {
                progress?.Report(new QuantizeProgress(QuantizeStage.Measuring, i, n));
            }
        }

        // A byte budget bounds the files (each shard keeps its header, index checksum and footer; each stored sample its
        // record); a bpp budget the payload.
        // Each shard is rewritten as 2.0, or as 1.1 when its float32 scales do not fit binary16 (DqsShardRewriter).
        var layouts = set.Shards.Select(DqsShardRewriter.LayoutBound).ToList();
        var budgetBytes = budget.IsBitsPerPixel
            ? budget.PayloadBytes(set.SourceCount, pixels)
            : budget.Bytes - set.Shards.Select((shard, s) => layouts[s].SetAside(shard.Count, 1)).Sum();
        if (budgetBytes < 0)
        {
            throw new ArgumentException($"a budget of {budget.Bytes} bytes does not cover the fixed overhead of {set.Shards.Count} shard(s).", nameof(budget));
        }

        var problem = new AllocationProblem(n, pixels, budgetBytes)
        {
            RecordBytes = budget.IsBitsPerPixel ? 0 : layouts.Max(l => l.WholeBytesPerSample),
            Distortion = distortion,
            MaxBits = maxBits,
            Labels = labels,
            CoverageScore = ClassTypicality.Measure(new DqsSampleSource(set, paths.Count == 1 ? paths[0] : "shard set"), labels),
        };
        var bits = new byte[n];
        allocator.Allocate(problem, bits);
        progress?.Report(new QuantizeProgress(QuantizeStage.Allocating, n, n));
        var after = problem.TotalBytes(bits);
        if (after > budgetBytes)
        {
            throw new InvalidOperationException($"allocator {allocator.Name} spent {after} bytes of a {budgetBytes}-byte budget.");
        }

        double added = 0;
        for (var i = 0; i < n; i++)
        {
            added += distortion[i * w + bits[i]];
        }

        Directory.CreateDirectory(outputDirectory);
        var outputs = new List<string>();
        var written = 0;
        foreach (var shard in set.Shards)
        {
            var output = Path.Combine(outputDirectory, Path.GetFileName(shard.Path));
            DqsShardRewriter.Write(shard, bits.AsSpan(written, shard.Count), output, cancellationToken);
            outputs.Add(output);
            written += shard.Count;
            progress?.Report(new QuantizeProgress(QuantizeStage.Writing, written, n));
        }

        return new RequantizeResult(outputs, budgetBytes, before, after, n, bits.Count(b => b > 0), n == 0 ? 0 : added / n);
    }

    /// <summary>
    /// D(b') = pixel MSE between the reconstruction at the current width <paramref name="bits"/> and at b' ≤ bits, as
    /// <see cref="SampleQuantizer.Requantize"/> would write it (b' = 0: the mean image). Widths above the current one are
    /// unreachable and get D(bits).
    /// </summary>
    internal static void MeasureFromCodes(ReadOnlySpan<byte> codes, int bits, QuantizationParameters parameters, ReadOnlySpan<float> mean, int plane,
        Span<double> distortion)
    {
        distortion.Clear();
        var pixels = codes.Length;
        var scale = parameters.Scale;
        for (var p = 0; p < pixels; p++)
        {
            // A dropped sample decodes as the mean image.
            var m = mean[p / plane];
            var current = Math.Clamp(m + parameters.Shift + (scale * (codes[p] + SampleQuantizer.CodeOffset(bits))), 0f, 255f);
            distortion[0] += (current - m) * (current - m);
        }

        for (var lower = 1; lower < bits; lower++)
        {
            distortion[lower] = RequantizedPair.Fit(codes, bits, lower, parameters, mean, plane).SquaredError;
        }

        for (var b = 0; b < bits; b++)
        {
            distortion[b] /= pixels;
        }
    }
}
