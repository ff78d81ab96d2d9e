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

        if (options.PlaneCodes)
        {
            if (options.EmbeddedCodes)
            {
                throw new ArgumentException("codes are either embedded fixed-width or range-coded planes, not both.", nameof(options));
            }

            return Planes.PlaneQuantizer.Quantize(source, options, progress, cancellationToken);
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
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = source.Label(i);
        }

        var coverage = options.ClassCoverage ? ClassTypicality.Measure(source, labels) : ReadOnlyMemory<double>.Empty;
        AllocationProblem Measured(long budget) => new(n, pixels, budget)
        {
            Distortion = table.Distortion,
            // A measure other than the pixel MSE may stop gaining before the budget is spent; the pixel MSE takes the rest.
            FallbackDistortion = measure is PixelMseDistortion ? ReadOnlyMemory<double>.Empty : table.PixelMse,
            Labels = options.ClassCoverage ? labels : ReadOnlyMemory<int>.Empty,
            CoverageScore = coverage,
            Importance = options.Importance,
            DropCostRanksSamples = measure.DropCostRanksSamples,
            ChanceDropCost = measure.ChanceDropCost,
            Seed = options.Seed,
            RecordBytes = options.Budget.IsBitsPerPixel ? 0 : DqsIndexLayout.Current(source.Channels, source.ClassCount, pixels).WholeBytesPerSample,
        };

        // An allocation meant for training (class coverage) is not left to prices that say the reference memorised the set
        // or learnt another (AllocationProblem.MeasureTrusted): the pixel MSE allocates. The plain optimum stays the measure's.
        var measured = Measured(0);
        var measureTrusted = !options.ClassCoverage || measured.MeasureTrusted;
        AllocationProblem Problem(long budget) => measureTrusted ? Measured(budget) : Measured(budget).WithFallbackMeasure();

        var bits = new byte[n];
        var (problem, budgetBytes) = Allocate(source, options, Problem, bits);
        var payload = 0L;
        foreach (var b in bits)
        {
            payload += SampleQuantizer.PackedBytes(pixels, b);
        }

        var parameters = new QuantizationParameters[n];
        for (var i = 0; i < n; i++)
        {
            parameters[i] = table.Parameters[i * SampleQuantizer.WidthCount + bits[i]];
        }

        var prefix = options.ShardPrefix ?? source.Name;
        var orderPath = Path.Combine(options.OutputDirectory, IncrementOrder.FileName(prefix));
        IncrementOrder? order = null;
        int[]? sampleOrder = null;
        if (options.EmbeddedCodes)
        {
            // The order is measured with the dataset's importance and written beside the shards: what a fleet serves from.
            order = options.ClassCoverage
                ? CoverageOrder.Build(problem, labels, coverage.Span)
                : AdaptiveAllocator.Order(problem);
            (order, sampleOrder) = SampleNumbering.ByFirstIncrement(order);
        }

        ISampleSource writtenSource = sampleOrder is null ? source : new ReorderedSampleSource(source, sampleOrder);
        var writtenBits = sampleOrder is null ? bits : Array.ConvertAll(sampleOrder, i => bits[i]);
        var writtenParameters = sampleOrder is null ? parameters : Array.ConvertAll(sampleOrder, i => parameters[i]);
        var writtenGrids = sampleOrder is null || table.Grids.Length == 0 ? table.Grids : Array.ConvertAll(sampleOrder, i => table.Grids[i]);
        var written = 0;
        var paths = DqsSetWriter.Write(writtenSource, statistics, writtenBits, writtenParameters, options.OutputDirectory, prefix,
            options.ShardSizeBytes, done =>
            {
                written += done;
                if (written % 1024 == 0 || written == n)
                {
                    progress?.Report(new QuantizeProgress(QuantizeStage.Writing, written, n));
                }
            }, cancellationToken, writtenGrids);
        if (order is not null)
        {
            order.Write(orderPath);
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
        if (!options.Budget.IsBitsPerPixel && fileBytes > options.Budget.Bytes)
        {
            throw new InvalidOperationException($"the shards take {fileBytes} bytes of a {options.Budget.Bytes}-byte budget.");
        }

        return new QuantizeResult(paths, bits, budgetBytes, payload, fileBytes, table.MeanSquaredError(bits),
            table.WeightedDistortion(bits, options.Importance.Span), clock.Elapsed)
        {
            CoarseToDropRatio = measured.CoarseToDropRatio(),
            UnfittableShare = measured.UnfittableShare(),
            MeasureTrusted = measureTrusted,
            DropCostTrusted = problem.DropCostTrusted,
            SampleOrder = sampleOrder,
        };
    }

    /// <summary>
    /// Runs the allocator. A bpp budget bounds the payload. A byte budget bounds the files: each stored sample costs its
    /// whole index bytes besides its payload, and the allocator gets the budget less the rest of the index (widths,
    /// block checksums) and each shard's header, index checksum and footer, for as many shards as the allocation needs (found by planning the shards and retrying
    /// with more when the split needs them). Returns the problem solved and the budget the allocator had.
    /// </summary>
    private static (AllocationProblem Problem, long BudgetBytes) Allocate(ISampleSource source, QuantizeOptions options,
        Func<long, AllocationProblem> problemFor, byte[] bits)
    {
        var pixels = source.Channels * source.Height * source.Width;
        if (options.Budget.IsBitsPerPixel)
        {
            var payloadBudget = options.Budget.PayloadBytes(source.Count, pixels);
            var payloadProblem = problemFor(payloadBudget);
            AllocateChecked(options.Allocator, payloadProblem, bits);
            return (payloadProblem, payloadBudget);
        }

        var layout = DqsIndexLayout.Current(source.Channels, source.ClassCount, pixels);
        for (var shards = 1; ; shards++)
        {
            var setAside = layout.SetAside(source.Count, shards);
            var budget = options.Budget.Bytes - setAside;
            if (budget < 0)
            {
                throw new ArgumentException(
                    $"a budget of {options.Budget.Bytes} bytes does not cover the headers, footers and index checksums of {shards} shard(s) ({setAside} bytes).",
                    nameof(options));
            }

            var problem = problemFor(budget);
            AllocateChecked(options.Allocator, problem, bits);
            var planned = DqsSetWriter.Plan(bits, layout, pixels, options.ShardSizeBytes).Count;
            if (planned <= shards)
            {
                return Relax(options, problemFor, layout, pixels, shards, bits) ?? (problem, budget);
            }

            shards = planned - 1;
        }
    }

    /// <summary>
    /// The set-aside above counts the index's half-byte widths and block checksums as if every sample were stored; when
    /// the allocation drops samples, allocating again with the set-aside of the samples it kept gets those bytes back
    /// (with one more shard's fixed part when the larger allocation needs it), kept only if its files still fit the
    /// budget. Null when there is nothing to gain.
    /// </summary>
    private static (AllocationProblem Problem, long BudgetBytes)? Relax(QuantizeOptions options, Func<long, AllocationProblem> problemFor,
        DqsIndexLayout layout, int pixels, int shards, byte[] bits)
    {
        var stored = bits.Count(b => b > 0);
        var trial = new byte[bits.Length];
        for (var attempt = 0; attempt < 4 && stored < bits.Length; attempt++)
        {
            var budget = options.Budget.Bytes - layout.SetAside(stored, shards);
            var problem = problemFor(budget);
            AllocateChecked(options.Allocator, problem, trial);
            var planned = DqsSetWriter.Plan(trial, layout, pixels, options.ShardSizeBytes).Count;
            if (planned > shards)
            {
                shards = planned;
                continue;
            }

            var kept = trial.Count(b => b > 0);
            if (problem.TotalBytes(trial) + layout.SetAside(kept, shards) <= options.Budget.Bytes)
            {
                trial.CopyTo(bits, 0);
                return (problem, budget);
            }

            // The bytes got back bought more samples, whose own index then did not fit: set aside theirs and try again.
            stored = kept;
        }

        return null;
    }

    private static void AllocateChecked(IBitAllocator allocator, AllocationProblem problem, byte[] bits)
    {
        allocator.Allocate(problem, bits);
        var spent = problem.TotalBytes(bits);
        if (spent > problem.BudgetBytes)
        {
            throw new InvalidOperationException($"allocator {allocator.Name} spent {spent} bytes of a {problem.BudgetBytes}-byte budget.");
        }
    }
}
