using System.Diagnostics;
using DatasetQuant.Core.Formats.Dqs.Planes;

namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// <c>dq quantize --codes planes</c>: the set's grids and model, every sample's real size and pixel MSE at 0..8 planes
/// (<see cref="PlaneTable"/>), the allocation under the budget by the same allocators and class coverage as the other
/// codes with each sample's own sizes, and the shards (docs/format.md §14). Distortion is the pixel MSE, weighted by the
/// importance when given; a model measure prices fixed-width reconstructions and is refused here. As with embedded codes,
/// the greedy increment order goes beside the shards (<c>{prefix}.dqo</c>) and the shards number the samples by it.
/// </summary>
public static class PlaneQuantizer
{
    public static QuantizeResult Quantize(ISampleSource source, QuantizeOptions options, IProgress<QuantizeProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        if (options.DistortionMeasure is not (null or PixelMseDistortion))
        {
            throw new ArgumentException($"--codes planes allocates by the pixel MSE (weighted by --importance); distortion measure {options.DistortionMeasure.Name} needs --codes refit.", nameof(options));
        }

        var clock = Stopwatch.StartNew();
        int n = source.Count, pixels = source.Channels * source.Height * source.Width;
        progress?.Report(new QuantizeProgress(QuantizeStage.Statistics, 0, n));
        var statistics = ChannelStatistics.Compute(source);
        var table = PlaneTable.Measure(source, statistics, options.MaxDegreeOfParallelism, progress, cancellationToken);
        progress?.Report(new QuantizeProgress(QuantizeStage.Allocating, 0, n));
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = source.Label(i);
        }

        var coverage = options.ClassCoverage ? ClassTypicality.Measure(source, labels) : ReadOnlyMemory<double>.Empty;
        var layout = PlaneIndexLayout.For(Formats.Dqs.DqsIndexLayout.Current(source.Channels, source.ClassCount, pixels));
        var fileCosts = new long[table.SegmentBytes.Length];
        for (var i = 0; i < fileCosts.Length; i++)
        {
            fileCosts[i] = table.SegmentBytes[i] == 0 ? 0 : table.SegmentBytes[i] + layout.WholeBytesPerSample;
        }

        // A bpp budget bounds the payload and the segment lengths (what grows with the planes); a byte budget the files.
        var costs = options.Budget.IsBitsPerPixel ? table.SegmentBytes : fileCosts;
        AllocationProblem Problem(long budget) => new(n, pixels, budget)
        {
            Distortion = table.PixelMse,
            SampleBytes = costs,
            Labels = options.ClassCoverage ? labels : ReadOnlyMemory<int>.Empty,
            CoverageScore = coverage,
            Importance = options.Importance,
            Seed = options.Seed,
        };

        var planes = new byte[n];
        var (problem, budgetBytes) = Allocate(options, Problem, table, layout, source.Channels, planes);

        // Planes are nested, so the greedy order is written beside the shards as for embedded codes (what a fleet serves
        // from), and the samples are numbered by their first increment in it.
        var order = options.ClassCoverage ? CoverageOrder.Build(problem, labels, coverage.Span) : AdaptiveAllocator.Order(problem);
        (order, var inputIndex) = SampleNumbering.ByFirstIncrement(order);
        var prefix = options.ShardPrefix ?? source.Name;
        var written = 0;
        var paths = PlaneSetWriter.Write(new ReorderedSampleSource(source, inputIndex), statistics, table.Reordered(inputIndex),
            Array.ConvertAll(inputIndex, i => planes[i]), options.OutputDirectory, prefix, options.ShardSizeBytes, done =>
            {
                written += done;
                if (written % 1024 == 0 || written == n)
                {
                    progress?.Report(new QuantizeProgress(QuantizeStage.Writing, written, n));
                }
            }, cancellationToken);
        order.Write(Path.Combine(options.OutputDirectory, IncrementOrder.FileName(prefix)));
        long fileBytes = 0, payload = 0;
        foreach (var path in paths)
        {
            fileBytes += new FileInfo(path).Length;
        }

        for (var i = 0; i < n; i++)
        {
            payload += table.SegmentBytes[(i * SampleQuantizer.WidthCount) + planes[i]];
        }

        progress?.Report(new QuantizeProgress(QuantizeStage.Done, n, n));
        if (!options.Budget.IsBitsPerPixel && fileBytes > options.Budget.Bytes)
        {
            throw new InvalidOperationException($"the shards take {fileBytes} bytes of a {options.Budget.Bytes}-byte budget.");
        }

        var weighted = 0.0;
        for (var i = 0; i < n; i++)
        {
            weighted += (options.Importance.IsEmpty ? 1.0 : options.Importance.Span[i]) * table.PixelMse[(i * SampleQuantizer.WidthCount) + planes[i]];
        }

        return new QuantizeResult(paths, planes, budgetBytes, payload, fileBytes, table.MeanSquaredError(planes), n == 0 ? 0 : weighted / n, clock.Elapsed)
        {
            SampleOrder = inputIndex,
        };
    }

    /// <summary>
    /// A bpp budget goes to the allocator whole. A byte budget loses each shard's fixed part and the index's plane counts
    /// and block checksums first, for as many shards as the allocation needs (planned, then retried with more).
    /// </summary>
    private static (AllocationProblem Problem, long BudgetBytes) Allocate(QuantizeOptions options, Func<long, AllocationProblem> problemFor,
        PlaneTable table, PlaneIndexLayout layout, int channels, byte[] planes)
    {
        if (options.Budget.IsBitsPerPixel)
        {
            var payloadBudget = options.Budget.PayloadBytes(planes.Length, problemFor(0).PixelsPerSample);
            var payloadProblem = problemFor(payloadBudget);
            AllocateChecked(options.Allocator, payloadProblem, planes);
            return (payloadProblem, payloadBudget);
        }

        for (var shards = 1; ; shards++)
        {
            var budget = options.Budget.Bytes - layout.SetAside(planes.Length, shards, channels);
            if (budget < 0)
            {
                throw new ArgumentException($"a budget of {options.Budget.Bytes} bytes does not cover the headers, footers, index checksums and models of {shards} planes shard(s).", nameof(options));
            }

            var problem = problemFor(budget);
            AllocateChecked(options.Allocator, problem, planes);
            var planned = PlaneSetWriter.Plan(table, planes, layout, channels, options.ShardSizeBytes).Count;
            if (planned <= shards)
            {
                return (problem, budget);
            }

            shards = planned - 1;
        }
    }

    private static void AllocateChecked(IBitAllocator allocator, AllocationProblem problem, byte[] planes)
    {
        allocator.Allocate(problem, planes);
        var spent = problem.TotalBytes(planes);
        if (spent > problem.BudgetBytes)
        {
            throw new InvalidOperationException($"allocator {allocator.Name} spent {spent} bytes of a {problem.BudgetBytes}-byte budget.");
        }
    }
}
