using System.Diagnostics;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The pipeline behind <c>dq quantize</c>: channel statistics, the quantizer and distortion of every sample at every width,
/// the allocation under the budget, and the shards.
/// </summary>
public static class DatasetQuantizer
{
    public static QuantizeResult Quantize(ISampleSource source, QuantizeOptions options, IProgress<QuantizeProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Importance.IsEmpty && options.Importance.Length != source.Count)
        {
            throw new ArgumentException($"{options.Importance.Length} importance weights for {source.Count} samples.", nameof(options));
        }

        var clock = Stopwatch.StartNew();
        var n = source.Count;
        var pixels = source.Channels * source.Height * source.Width;
        progress?.Report(new QuantizeProgress(QuantizeStage.Statistics, 0, n));
        var statistics = ChannelStatistics.Compute(source);
        var measure = options.DistortionMeasure ?? PixelMseDistortion.Instance;
        var table = DistortionTable.Measure(source, statistics, measure, options.ClipSearch,
            options.MaxDegreeOfParallelism, progress, cancellationToken, options.EmbeddedCodes);

        progress?.Report(new QuantizeProgress(QuantizeStage.Allocating, 0, n));
        var budgetBytes = options.Budget.PayloadBytes(n, pixels);
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = source.Label(i);
        }

        var problem = new AllocationProblem(n, pixels, budgetBytes)
        {
            Distortion = table.Distortion,
            Labels = options.ClassCoverage ? labels : ReadOnlyMemory<int>.Empty,
            CoverageScore = options.ClassCoverage ? ClassTypicality.Measure(source, labels) : ReadOnlyMemory<double>.Empty,
            Importance = options.Importance,
            DropCostRanksSamples = measure.DropCostRanksSamples,
            Seed = options.Seed,
        };
        var bits = new byte[n];
        options.Allocator.Allocate(problem, bits);
        var payload = problem.TotalBytes(bits);
        if (payload > budgetBytes)
        {
            throw new InvalidOperationException($"allocator {options.Allocator.Name} spent {payload} bytes of a {budgetBytes}-byte budget.");
        }

        var parameters = new QuantizationParameters[n];
        for (var i = 0; i < n; i++)
        {
            parameters[i] = table.Parameters[i * SampleQuantizer.WidthCount + bits[i]];
        }

        var prefix = options.ShardPrefix ?? source.Name;
        var written = 0;
        var paths = DqsSetWriter.Write(source, statistics, bits, parameters, options.OutputDirectory, prefix,
            options.ShardSizeBytes, done =>
            {
                written += done;
                if (written % 1024 == 0 || written == n)
                {
                    progress?.Report(new QuantizeProgress(QuantizeStage.Writing, written, n));
                }
            }, cancellationToken);
        var orderPath = Path.Combine(options.OutputDirectory, IncrementOrder.FileName(prefix));
        if (options.EmbeddedCodes)
        {
            // The order is measured with the dataset's importance and written beside the shards: what a fleet serves from.
            AdaptiveAllocator.Order(problem).Write(orderPath);
        }
        else if (File.Exists(orderPath))
        {
            // An order from an earlier embedded run would describe codes these shards no longer have.
            File.Delete(orderPath);
        }

        long fileBytes = 0;
        foreach (var path in paths)
        {
            fileBytes += new FileInfo(path).Length;
        }

        progress?.Report(new QuantizeProgress(QuantizeStage.Done, n, n));
        return new QuantizeResult(paths, bits, budgetBytes, payload, fileBytes, table.MeanSquaredError(bits),
            table.WeightedDistortion(bits, options.Importance.Span), clock.Elapsed);
    }
}
