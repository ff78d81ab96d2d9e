using DatasetQuant.Onnx.Generators;
using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Tests;

public sealed class OnnxBindingTests
{
    [Fact]
    public void Bound_runs_allocate_nothing_after_warm_up_and_see_new_input_values()
    {
        var (model, w1, b1, w2, b2) = TestModels.Mlp(784, 16, 10, seed: 8);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        var input = new float[8 * 784];
        var output = new float[8 * 10];
        using var binding = session.CreateBinding().BindInput("input", input, 8, 784).BindOutput("logits", output, 8, 10);
        binding.Run();

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 50; i++)
        {
            input[i] = i * 0.01f;
            binding.Run();
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        Assert.Equal(TestModels.MlpReference(input, 8, 784, 16, 10, w1, b1, w2, b2), output, (a, b) => Math.Abs(a - b) < 1e-3f);
    }

    [Fact]
    public void Span_run_allocates_nothing_after_warm_up()
    {
        var (model, _, _, _, _) = TestModels.Mlp(784, 16, 10, seed: 8);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        var input = new float[4 * 784];
        var output = new float[4 * 10];
        session.Run(input, [4, 784], output, [4, 10]);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            session.Run(input, [4, 784], output, [4, 10]);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Smaller_last_batch_runs_on_the_same_buffers()
    {
        var (model, w1, b1, w2, b2) = TestModels.Mlp(12, 5, 3, seed: 9);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        var input = Enumerable.Range(0, 4 * 12).Select(i => (float)Math.Cos(i)).ToArray();
        var output = new float[4 * 3];
        using var binding = session.CreateBinding().BindInput("input", input, 4, 12).BindOutput("logits", output, 4, 3);
        binding.SetBatchSize(3);
        Array.Fill(output, float.NaN);

        binding.Run();

        var expected = TestModels.MlpReference(input, 3, 12, 5, 3, w1, b1, w2, b2);
        Assert.Equal(expected, output[..9], (a, b) => Math.Abs(a - b) < 1e-4f);
        Assert.True(float.IsNaN(output[9]), "row 4 is outside the batch and must stay untouched");
        Assert.Throws<ArgumentOutOfRangeException>(() => binding.SetBatchSize(5));
    }

    [Fact]
    public void Sampler_allocates_nothing_per_batch_after_warm_up()
    {
        var (model, manifest) = GeneratorTests.SmallGenerator();
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        using var sampler = new GeneratorSampler(session, manifest, new GeneratorSamplerOptions { BatchSize = 16 });
        var labels = new int[16];
        var images = new float[16 * sampler.SampleSize];
        sampler.Sample(images, labels);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 20; i++)
        {
            sampler.Sample(images, labels);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Binding_rejects_unknown_names_and_oversized_shapes()
    {
        var (model, _, _, _, _) = TestModels.Mlp(12, 5, 3, seed: 9);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        using var binding = session.CreateBinding();

        var unknown = Assert.Throws<ArgumentException>(() => binding.BindInput("pixels", new float[12], 1, 12));
        Assert.Contains("input", unknown.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => binding.BindInput("input", new float[12], 2, 12));
    }
}
