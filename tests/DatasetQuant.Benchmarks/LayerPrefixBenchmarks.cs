using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// What serving prefixes whole adds to a publish: writing the copy a device holds at a budget (by applying the layers as
/// a device does) against cutting the 10,000 Fashion-MNIST test images at 8 bpp into layers, the baseline, in the same
/// run. One prefix at the 1 bpp budget, and the whole dataset as one prefix (the most one prefix can cost).
/// </summary>
[MemoryDiagnoser]
[MedianColumn]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 5)]
public class LayerPrefixBenchmarks
{
    private string _work = "";
    private IReadOnlyList<string> _shards = [];
    private IncrementOrder _order = null!;
    private IReadOnlyList<LayerInfo> _layers = [];
    private int _layersAtOneBit;

    [GlobalSetup]
    public void Setup()
    {
        _work = Directory.CreateTempSubdirectory("dq-prefix-bench-").FullName;
        var test = DatasetSource.Load("fashion-mnist:test");
        var full = DatasetQuantizer.Quantize(test, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(8), OutputDirectory = Path.Combine(_work, "full"), ShardPrefix = "data", EmbeddedCodes = true,
        });
        _shards = full.ShardPaths;
        _order = IncrementOrder.Read(Path.Combine(_work, "full", "data.dqo"));
        _layers = LayerBuilder.Build(_shards, _order, Path.Combine(_work, "layers"), "data");
        _layersAtOneBit = LayerBuilder.LayersWithin(_layers, Budget.FromBitsPerPixel(1).PayloadBytes(test.Count, test.PixelsPerSample) + (16L * test.Count));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_work, recursive: true);

    /// <summary>Cutting the order into layers, as every layered publish does.</summary>
    [Benchmark(Baseline = true)]
    public int BuildLayers() => LayerBuilder.Build(_shards, _order, Path.Combine(_work, "rebuilt"), "data").Count;

    [Benchmark]
    public long PrefixAtOneBitPerPixel() => LayerPrefixes.Write(_layers, [_layersAtOneBit], Path.Combine(_work, "layers"), "data")[0].Bytes;

    [Benchmark]
    public long PrefixOfEveryLayer() => LayerPrefixes.Write(_layers, [_layers.Count], Path.Combine(_work, "layers"), "data")[0].Bytes;
}
