using BenchmarkDotNet.Attributes;

namespace DatasetQuant.Benchmarks;

/// <summary>The machine's own copy speed: the baseline every decode ratio in docs/results.md is measured against.</summary>
[MemoryDiagnoser]
public class MemoryCopyBenchmarks
{
    private byte[] _source = [];
    private byte[] _destination = [];

    [Params(28 * 28 * 4 * 1024)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _source = new byte[Bytes];
        _destination = new byte[Bytes];
        new Random(1).NextBytes(_source);
    }

    [Benchmark(Baseline = true)]
    public void Memcpy() => _source.AsSpan().CopyTo(_destination);
}
