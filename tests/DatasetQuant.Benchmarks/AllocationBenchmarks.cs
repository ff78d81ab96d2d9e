using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// What `dq quantize --allocator adaptive` spends before it writes: measuring D_i(b) for 10,000 Fashion-MNIST training
/// samples at every width, and the allocation with and without class coverage at 0.5 bpp (the budget forces half the
/// samples out) and 2 bpp, against the baseline of one
/// pass over the same pixels (the channel statistics) in the same run. A lost vector path or a quadratic step shows as
/// a jump in the ratios, whatever the load.
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class AllocationBenchmarks
{
    private const int Samples = 10_000;
    private const int Pixels = 28 * 28;

    private ImageDataset _train = null!;
    private ChannelStatistics _statistics = null!;
    private DistortionTable _table = null!;
    private int[] _labels = [];
    private double[] _typicality = [];
    private byte[] _bits = [];
    private long _budget;

    [Params(0.5, 2.0)]
    public double BitsPerPixel { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _train = DatasetSource.Load("fashion-mnist:train").Take(Samples);
        _statistics = ChannelStatistics.Compute(_train);
        _table = DistortionTable.Measure(_train, _statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        _labels = _train.Labels.ToArray();
        _typicality = ClassTypicality.Measure(_train, _labels);
        _bits = new byte[Samples];
        _budget = Budget.FromBitsPerPixel(BitsPerPixel).PayloadBytes(Samples, Pixels);
    }

    /// <summary>One pass over the 10,000 samples' pixels: the least any allocator must read.</summary>
    [Benchmark(Baseline = true)]
    public ChannelStatistics ReadPixelsOnce() => ChannelStatistics.Compute(_train);

    /// <summary>D_i(b) at widths 0..8 with the encoder's clip search, on all cores, as `dq quantize` runs it.</summary>
    [Benchmark]
    public DistortionTable MeasureDistortion() =>
        DistortionTable.Measure(_train, _statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);

    /// <summary>The convex-hull greedy alone (no labels), on the measured table.</summary>
    [Benchmark]
    public byte AllocateUnlabelled()
    {
        new AdaptiveAllocator().Allocate(new AllocationProblem(Samples, Pixels, _budget) { Distortion = _table.Distortion }, _bits);
        return _bits[0];
    }

    /// <summary>The greedy, then coverage selection and the second greedy, as `dq quantize` runs it with labels.</summary>
    [Benchmark]
    public byte AllocateWithCoverage()
    {
        new AdaptiveAllocator().Allocate(new AllocationProblem(Samples, Pixels, _budget)
        {
            Distortion = _table.Distortion,
            Labels = _labels,
            CoverageScore = _typicality,
        }, _bits);
        return _bits[0];
    }
}
