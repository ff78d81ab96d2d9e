using BenchmarkDotNet.Attributes;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// What range-coded bit planes (the entropy-planes experiment, docs/results.md "Entropy-coded planes") cost to decode:
/// 1024 Fashion-MNIST samples with the top k planes, decoded to codes and reconstructed to [0, 1] float32, against the
/// fixed-width shard's <see cref="DqsReader.DecodeBatch"/> at k bits and a plain uint8→float32 conversion of the same
/// pixels (the baseline, as in <see cref="DecodeBenchmarks"/>), in one run.
/// </summary>
[MemoryDiagnoser]
public class PlaneDecodeBenchmarks : IDisposable
{
    private const int Samples = 1024;
    private const int Side = 28;
    private const int Pixels = Side * Side;

    private byte[] _pixels = [];
    private float[] _output = [];
    private int[] _labels = [];
    private byte[][] _segments = [];
    private PlaneGrid[] _grids = [];
    private byte[] _codes = [];
    private PlaneProbabilities? _model;
    private DqsReader? _reader;
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
        _codes = new byte[Pixels];
        var codes = new byte[Samples * Pixels];
        var zeros = new long[PlaneCoder.Planes * PlaneCoder.Contexts];
        var totals = new long[zeros.Length];
        _grids = new PlaneGrid[Samples];
        for (var i = 0; i < Samples; i++)
        {
            _grids[i] = PlaneGrid.Fit(dataset.Pixels(i));
            _grids[i].Encode(dataset.Pixels(i), codes.AsSpan(i * Pixels, Pixels));
            PlaneCoder.Count(codes.AsSpan(i * Pixels, Pixels), 1, Side, Side, zeros, totals);
        }

        _model = PlaneProbabilities.Fit(zeros, totals);
        var buffer = new byte[(Pixels * 11) + 64];
        _segments = new byte[Samples][];
        for (var i = 0; i < Samples; i++)
        {
            var encoder = new BinaryRangeEncoder(buffer);
            for (var k = 1; k <= Planes; k++)
            {
                PlaneCoder.EncodePlane(ref encoder, codes.AsSpan(i * Pixels, Pixels), 1, Side, Side, PlaneCoder.Planes - k, _model);
            }

            _segments[i] = buffer.AsSpan(0, encoder.Finish()).ToArray();
        }

        _directory = Directory.CreateTempSubdirectory("dq-bench-").FullName;
        var result = DatasetQuantizer.Quantize(dataset, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(Planes),
            Allocator = new UniformAllocator(),
            OutputDirectory = _directory,
            ClipSearch = 1,
        });
        _reader = DqsReader.Open(File.ReadAllBytes(result.ShardPaths.Single()), "bench.dqs");
        _normalization = DqsNormalization.FromHeader(_reader.Header);
    }

    [Benchmark(Baseline = true)]
    public void ConvertUint8ToFloat32() => PlainConversion.ToSingle(_pixels, _output, 1f / 255f);

    /// <summary>The fixed-width shard at k bits, as the trainer reads it.</summary>
    [Benchmark]
    public void DecodeBatchFixedWidth() => _reader!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    /// <summary>Every sample's segment: k planes decoded serially, then each pixel reconstructed at its cell's middle.</summary>
    [Benchmark]
    public void DecodeRangeCodedPlanes()
    {
        for (var i = 0; i < Samples; i++)
        {
            _codes.AsSpan().Clear();
            var decoder = new BinaryRangeDecoder(_segments[i]);
            for (var k = 1; k <= Planes; k++)
            {
                PlaneCoder.DecodePlane(ref decoder, _codes, 1, Side, Side, PlaneCoder.Planes - k, _model!);
            }

            var output = _output.AsSpan(i * Pixels, Pixels);
            for (var p = 0; p < Pixels; p++)
            {
                output[p] = (float)(_grids[i].Reconstruct(_codes[p], Planes) / 255);
            }
        }
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _reader?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
