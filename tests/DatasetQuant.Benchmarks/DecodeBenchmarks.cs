using BenchmarkDotNet.Attributes;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// Decoding 1024 Fashion-MNIST samples to standardised float32 at 1, 2, 4 and 8 bits, against a plain uint8→float32
/// conversion of the same pixels (the baseline) and a memcpy of the same output bytes, in one class and one run; and
/// the same samples from a 1.1 copy of the shard (16-byte records, a checksum per sample) beside the 2.0 shard.
/// </summary>
[MemoryDiagnoser]
public class DecodeBenchmarks : IDisposable
{
    private const int Samples = 1024;
    private const int Pixels = 28 * 28;

    private byte[] _pixels = [];
    private float[] _copySource = [];
    private float[] _output = [];
    private int[] _labels = [];
    private DqsReader? _reader;
    private DqsReader? _unchecked;
    private DqsReader? _version1;
    private DqsNormalization? _normalization;
    private string? _directory;

    [Params(1, 2, 4, 8)]
    public int Bits { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(Samples);
        _pixels = dataset.AllPixels.ToArray();
        _copySource = new float[Samples * Pixels];
        _output = new float[Samples * Pixels];
        _labels = new int[Samples];
        _directory = Directory.CreateTempSubdirectory("dq-bench-").FullName;
        var result = DatasetQuantizer.Quantize(dataset, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(Bits),
            Allocator = new UniformAllocator(),
            OutputDirectory = _directory,
            ClipSearch = 1,
        });
        var shard = File.ReadAllBytes(result.ShardPaths.Single());
        _reader = DqsReader.Open(shard, "bench.dqs");
        _unchecked = DqsReader.Open(shard, "bench.dqs", verifyPayloadChecksums: false);
        _version1 = DqsReader.Open(CopyAsVersion1(_reader, Path.Combine(_directory, "v1.dqs")), "bench-v1.dqs");
        _normalization = DqsNormalization.FromHeader(_reader.Header);
    }

    [Benchmark(Baseline = true)]
    public void ConvertUint8ToFloat32() => PlainConversion.ToSingle(_pixels, _output, 1f / 255f);

    [Benchmark]
    public void MemcpyFloat32() => _copySource.AsSpan().CopyTo(_output);

    /// <summary>Sample by sample, as <c>dq bench decode</c> and the training pipeline read them.</summary>
    [Benchmark]
    public void Decode()
    {
        for (var i = 0; i < Samples; i++)
        {
            _reader!.Decode(i, _output.AsSpan(i * Pixels, Pixels), _normalization!);
        }
    }

    /// <summary>The same with the labels, through <see cref="DqsReader.DecodeBatch"/>.</summary>
    [Benchmark]
    public void DecodeBatch() => _reader!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    [Benchmark]
    public void DecodeWithoutChecksums() => _unchecked!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    /// <summary><see cref="DecodeBatch"/> from the 1.1 copy: the 2.0 index must decode as fast.</summary>
    [Benchmark]
    public void DecodeBatchVersion1() => _version1!.DecodeBatch(0, Samples, _output, _labels, _normalization!);

    private static byte[] CopyAsVersion1(DqsReader shard, string path)
    {
        var h = shard.Header;
        var template = new DqsHeader(h.Channels, h.Height, h.Width, h.ClassCount, h.SampleCount, h.ShardIndex, h.ShardCount,
            h.FirstSourceIndex, h.SourceCount, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation]) { VersionMajor = 1 };
        using (var writer = new DqsShardWriter(path, template))
        {
            for (var i = 0; i < shard.Count; i++)
            {
                var record = shard.Record(i);
                writer.Append(record.Label, record.Bits, record.Parameters, shard.Payload(i));
            }

            writer.Commit();
        }

        return File.ReadAllBytes(path);
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _reader?.Dispose();
        _unchecked?.Dispose();
        _version1?.Dispose();
        if (_directory is not null && Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }
}
