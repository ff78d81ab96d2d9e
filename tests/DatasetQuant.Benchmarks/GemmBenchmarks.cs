using BenchmarkDotNet.Attributes;
using DatasetQuant.Training.Compute;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// The trainer's SGEMM against a plain triple loop (i-k-j order, which the JIT auto-vectorises nothing of but streams
/// rows), on the two shapes that dominate an MLP step: the forward product and the weight gradient.
/// GFLOP/s = 2·M·N·K / time.
/// </summary>
[MemoryDiagnoser]
public class GemmBenchmarks
{
    private float[] _a = [];
    private float[] _b = [];
    private float[] _c = [];
    private Sgemm _serial = null!;
    private Sgemm _parallel = null!;
    private ComputePool _pool = null!;

    // M, N, K: the forward product of layer 1 at batch 128, and a square reference size.
    [Params("128x256x784", "512x512x512")]
    public string Shape { get; set; } = "128x256x784";

    private int M => int.Parse(Shape.Split('x')[0], System.Globalization.CultureInfo.InvariantCulture);

    private int N => int.Parse(Shape.Split('x')[1], System.Globalization.CultureInfo.InvariantCulture);

    private int K => int.Parse(Shape.Split('x')[2], System.Globalization.CultureInfo.InvariantCulture);

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        _a = Enumerable.Range(0, M * K).Select(_ => (float)random.NextDouble()).ToArray();
        _b = Enumerable.Range(0, K * N).Select(_ => (float)random.NextDouble()).ToArray();
        _c = new float[M * N];
        _pool = new ComputePool(2);
        _serial = new Sgemm();
        _parallel = new Sgemm(_pool);
    }

    [GlobalCleanup]
    public void Cleanup() => _pool.Dispose();

    [Benchmark(Baseline = true)]
    public void NaiveTripleLoop()
    {
        int m = M, n = N, k = K;
        Array.Clear(_c);
        for (var i = 0; i < m; i++)
        {
            for (var p = 0; p < k; p++)
            {
                var a = _a[(i * k) + p];
                for (var j = 0; j < n; j++)
                {
                    _c[(i * n) + j] += a * _b[(p * n) + j];
                }
            }
        }
    }

    [Benchmark]
    public void BlockedOneThread() => _serial.Multiply(false, false, M, N, K, _a, K, _b, N, _c, N);

    [Benchmark]
    public void BlockedTwoThreads() => _parallel.Multiply(false, false, M, N, K, _a, K, _b, N, _c, N);
}
