namespace DatasetQuant.Core.Quantization;

/// <summary>What <see cref="DatasetQuantizer.Quantize"/> needs beyond the samples.</summary>
public sealed class QuantizeOptions
{
    public required Budget Budget { get; init; }

    public required string OutputDirectory { get; init; }

    public IBitAllocator Allocator { get; init; } = new AdaptiveAllocator();

    /// <summary>Largest shard file; a new shard starts before a sample would pass it.</summary>
    public long ShardSizeBytes { get; init; } = 64L * 1024 * 1024;

    public int Seed { get; init; }

    /// <summary>Shard files are named <c>{prefix}-00000.dqs</c>; default: the source's name.</summary>
    public string? ShardPrefix { get; init; }

    /// <summary>D_i(b); default pixel MSE.</summary>
    public IDistortionMeasure? DistortionMeasure { get; init; }

    /// <summary>w_i per sample (length = sample count); empty means uniform importance.</summary>
    public ReadOnlyMemory<double> Importance { get; init; }

    /// <summary>
    /// When samples must be dropped, each class keeps its share (<see cref="CoverageSelection"/>); off, the allocator drops
    /// whatever costs least distortion, which at low budgets keeps a class-skewed subset.
    /// </summary>
    public bool ClassCoverage { get; init; } = true;

    /// <summary>Clip factors the encoder tries per width to lower MSE (1 = max-abs scale only; up to 9).</summary>
    public int ClipSearch { get; init; } = 6;

    /// <summary>
    /// Embedded codes (<see cref="EmbeddedCode"/>): each sample's b-bit codes are the top b bits of its 8-bit codes (each
    /// width with its own reconstruction), and the
    /// greedy increment order is written beside the shards (<see cref="IncrementOrder"/>), so that the allocation for
    /// any smaller budget is a prefix of it. Off, every width gets its own fitted quantizer (less distortion per width).
    /// </summary>
    public bool EmbeddedCodes { get; init; }

    /// <summary>
    /// Range-coded bit planes (codec 2, docs/format.md §14, <see cref="Planes.PlaneQuantizer"/>): each sample's codes on one
    /// nested grid, each plane range-coded; sizes vary per sample and the allocation charges each its own.
    /// </summary>
    public bool PlaneCodes { get; init; }

    /// <summary>Threads measuring pixel distortion; default all cores.</summary>
    public int MaxDegreeOfParallelism { get; init; } = Environment.ProcessorCount;
}

public enum QuantizeStage
{
    Statistics,
    Measuring,
    Allocating,
    Writing,
    Done,
}

/// <summary>Progress of a quantization run: <paramref name="Done"/> of <paramref name="Total"/> samples in <paramref name="Stage"/>.</summary>
public readonly record struct QuantizeProgress(QuantizeStage Stage, int Done, int Total);

/// <summary>What a run produced and how good it is.</summary>
public sealed record QuantizeResult(
    IReadOnlyList<string> ShardPaths,
    byte[] Bits,
    long BudgetBytes,
    long PayloadBytes,
    long FileBytes,
    double MeanSquaredError,
    double WeightedDistortion,
    TimeSpan Elapsed)
{
    /// <summary>
    /// Σ w_i·D_i(1) / Σ w_i·D_i(0) of the measure over the samples its reference predicts at least as well as chance
    /// (<see cref="AllocationProblem.CoarseToDropRatio"/>): what decides whether a ranking measure allocates at all and,
    /// with the set's size against its dimension, whether it may choose optional drops.
    /// </summary>
    public double CoarseToDropRatio { get; init; }

    /// <summary>
    /// The share of samples the measure's reference predicts worse than chance (<see cref="AllocationProblem.UnfittableShare"/>):
    /// beside <see cref="CoarseToDropRatio"/>, what decides whether a ranking measure allocates.
    /// </summary>
    public double UnfittableShare { get; init; }

    /// <summary>
    /// Whether the measure allocated: false where class coverage was on and a reference's prices were not trusted
    /// (<see cref="AllocationProblem.MeasureTrusted"/>), and the pixel MSE allocated instead.
    /// </summary>
    public bool MeasureTrusted { get; init; } = true;

    /// <summary>Whether the measure's drop cost ranks samples and was trusted to choose optional drops (<see cref="AllocationProblem.DropCostTrusted"/>).</summary>
    public bool DropCostTrusted { get; init; }

    /// <summary>
    /// For embedded codes, the input index of each sample in the order the shards and the increment order number them
    /// (<see cref="SampleNumbering"/>); null when they follow the input. <see cref="Bits"/> follows the input.
    /// </summary>
    public IReadOnlyList<int>? SampleOrder { get; init; }

    /// <summary>Payload bits per pixel over all input samples, dropped ones included.</summary>
    public double BitsPerPixel(int pixelsPerSample) => Bits.Length == 0 ? 0 : PayloadBytes * 8.0 / ((double)Bits.Length * pixelsPerSample);

    /// <summary>PSNR (dB) of the whole dataset on the 0–255 scale, dropped samples counted as the mean image.</summary>
    public double Psnr => 10 * Math.Log10(255.0 * 255.0 / Math.Max(MeanSquaredError, 1e-12));

    /// <summary>How many samples got each width 0..8.</summary>
    public int[] Histogram()
    {
        var histogram = new int[SampleQuantizer.WidthCount];
        foreach (var b in Bits)
        {
            histogram[b]++;
        }

        return histogram;
    }
}
