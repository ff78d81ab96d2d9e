using BenchmarkDotNet.Attributes;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Formats.Dqs.Planes;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// What a planes shard (codec 2, docs/format.md §14) costs to decode as the trainer reads it: 1024 Fashion-MNIST samples
/// with every sample at k planes, <see cref="DqsReader.DecodeBatch"/> to [0, 1] float32, against a codec 1 shard of the
/// same samples at k bits and a plain uint8→float32 conversion of the same pixels (the baseline, as in
/// <see cref="DecodeBenchmarks"/>), in one run. Both shards are read from memory; allocation per call is measured.
/// </summary>
[MemoryDiagnoser]
public class PlaneDecodeBenchmarks : IDisposable
{
    private const int Samples = 1024;
    private const int Pixels = 28 * 28;

    private byte[] _pixels = [];
    private float[] _output = [];
    private int[] _labels = [];
    private DqsReader? _fixed;
    private DqsReader? _planes;
    private DqsNormalization? _normalization;
    private string? _directory;

    [Params(1, 2, 4, 8)]
    public int Planes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(Samples);
        _pixels = dataset.AllPixels.ToArray();
        _output = new float[Samples * Pixels];
        _labels = new int[Samples];
        _directory = Directory.CreateTempSubdirectory("dq-bench-").FullName;
        _fixed = Open(dataset, "fixed", planes: false);
        _planes = Open(dataset, "planes", planes: true);
        if (Enumerable.Range(0, Samples).Any(i => _planes.Planes(i) != Planes))
        {
            throw new InvalidOperationException($"the planes shard does not hold every sample at {Planes} planes.");
        }

        _normalization = DqsNormalization.Unit(1);
    }

    /// <summary>Every sample at k bits (the uniform allocator at k bpp) or k planes (written directly at k).</summary>
    private DqsReader Open(ImageDataset dataset, string name, bool planes)
    {
        var directory = Path.Combine(_directory!, name);
        if (!planes)
        {
            var result = DatasetQuantizer.Quantize(dataset, new QuantizeOptions
            {
                Budget = Budget.FromBitsPerPixel(Planes), Allocator = new UniformAllocator(), OutputDirectory = directory, ClipSearch = 1,
            });
            return DqsReader.Open(File.ReadAllBytes(result.ShardPaths.Single()), name + ".dqs");
        }

        var statistics = ChannelStatistics.Compute(dataset);
        var table = PlaneTable.Measure(dataset, statistics, 1, null, default);
        var counts = Enumerable.Repeat((byte)Planes, Samples).ToArray();
        var path = PlaneSetWriter.Write(dataset, statistics, table, counts, directory, name, long.MaxValue).Single();
        return DqsReader.Open(File.ReadAllBytes(path), name + ".dqs");
    }

    [Benchmark(Baseline = true)]
    public void ConvertUint8ToFloat32() => PlainConversion.ToSingle(_pixels, _output, 1f / 255f);

    /// <summary>The codec 1 shard at k bits (SIMD).</summary>
    [Benchmark]
    public void DecodeBatchFixedWidth() => _fixed!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    /// <summary>The planes shard at k planes: each plane range-decoded serially, each cell reconstructed.</summary>
    [Benchmark]
    public void DecodeBatchPlanes() => _planes!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    [GlobalCleanup]
    public void Dispose()
    {
        _fixed?.Dispose();
        _planes?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
