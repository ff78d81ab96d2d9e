using BenchmarkDotNet.Attributes;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// What placing each sample's planes grid by its values (<see cref="PlaneGrid.Fit(ReadOnlySpan{float})"/> with its
/// search) costs beside the rest of a planes measurement: 2,000 Fashion-MNIST test samples (28×28) and the same
/// samples area-averaged to 8×8, the grids alone against <see cref="PlaneTable.Measure"/> (grids, model, every
/// sample's 8 planes range-coded and their errors) in one run. Allocation per call is measured.
/// </summary>
[MemoryDiagnoser]
public class PlaneGridBenchmarks
{
    private const int Samples = 2000;

    private ImageDataset? _dataset;
    private float[][] _pixels = [];
    private ChannelStatistics? _statistics;

    [Params(28, 8)]
    public int Side { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var test = DatasetSource.Load("fashion-mnist:test").Take(Samples);
        _dataset = Side == 28 ? test : ImageDatasetDerivation.ResizeArea(test, Side, Side);
        _pixels = Enumerable.Range(0, Samples).Select(i => _dataset.Pixels(i).ToArray().Select(b => (float)b).ToArray()).ToArray();
        _statistics = ChannelStatistics.Compute(_dataset);
    }

    [Benchmark(Baseline = true, Description = "planes measurement, 1 thread")]
    public PlaneTable Measure() => PlaneTable.Measure(_dataset!, _statistics!, maxDegreeOfParallelism: 1, progress: null, CancellationToken.None);

    [Benchmark(Description = "grids alone")]
    public int Grids()
    {
        var moved = 0;
        foreach (var x in _pixels)
        {
            moved += PlaneGrid.Fit(x).StepCode;
        }

        return moved;
    }
}
