using BenchmarkDotNet.Attributes;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Onnx;
using DatasetQuant.Onnx.Generators;
using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// Cost of the sampler and of the allocating run path over the bare bound Run (the baseline), on the linear-Gaussian
/// generator fitted to the first 5,000 Fashion-MNIST images, one intra-op thread.
/// </summary>
[MemoryDiagnoser]
public class GeneratorSamplingBenchmarks
{
    private OnnxSession _session = null!;
    private OnnxBinding _binding = null!;
    private GeneratorSampler _sampler = null!;
    private float[] _noise = [];
    private float[] _image = [];
    private int[] _labels = [];
    private OnnxTensor[] _tensorInput = [];

    [Params(1, 64)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var data = DatasetSource.Load("fashion-mnist").Take(5000);
        var pixels = new float[data.AllPixels.Length];
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = data.AllPixels[i] / 255f;
        }

        var generator = LinearGaussianGenerator.Fit(pixels, data.Labels, 10, 1, 28, 28, maxBasisSamples: 2000);
        var options = new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 };
        _session = OnnxSession.Load(OnnxModelWriter.Write(generator.ToModel()), options);
        _noise = new float[Batch * 100];
        for (var i = 0; i < _noise.Length; i++)
        {
            _noise[i] = (i % 100) < 10 ? (i % 100 == 3 ? 1 : 0) : (float)Math.Sin(i);
        }

        _image = new float[Batch * 784];
        _labels = new int[Batch];
        _binding = _session.CreateBinding().BindInput("noise", _noise, Batch, 100).BindOutput("image", _image, Batch, 1, 28, 28);
        _sampler = new GeneratorSampler(_session, generator.ToManifest("fashion-mnist", [0.286f], [0.353f]),
            new GeneratorSamplerOptions { Seed = 1, BatchSize = Batch });
        _tensorInput = [OnnxTensor.FromFloats("noise", _noise, Batch, 100)];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _sampler.Dispose();
        _binding.Dispose();
        _session.Dispose();
    }

    [Benchmark(Baseline = true, Description = "bound Run")]
    public void BoundRun() => _binding.Run();

    [Benchmark(Description = "span Run")]
    public void SpanRun() => _session.Run(_noise, [Batch, 100], _image, [Batch, 1, 28, 28]);

    [Benchmark(Description = "sampler (labels, noise, run, normalise)")]
    public void Sample() => _sampler.Sample(_image, _labels);

    [Benchmark(Description = "tensor Run (allocating)")]
    public OnnxTensor[] TensorRun() => _session.Run(_tensorInput);
}
