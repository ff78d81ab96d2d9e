using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Tests;

public sealed class OnnxSessionTests
{
    [Fact]
    public void Runtime_reports_the_package_version_1_32_its_library_file_and_cpu_provider()
    {
        Assert.StartsWith("1.32.", OnnxRuntime.Version, StringComparison.Ordinal);
        Assert.EndsWith("/libonnxruntime.so", OnnxRuntime.LibraryPath, StringComparison.Ordinal);
        Assert.True(File.Exists(OnnxRuntime.LibraryPath));
        Assert.Contains(ExecutionProviders.Cpu, OnnxRuntime.AvailableProviders);
    }

    [Fact]
    public void Written_mlp_runs_in_onnx_runtime_and_matches_the_reference()
    {
        var (model, w1, b1, w2, b2) = TestModels.Mlp(784, 32, 10, seed: 1);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        var input = Enumerable.Range(0, 4 * 784).Select(i => (float)Math.Sin(i * 0.01)).ToArray();
        var output = new float[4 * 10];

        session.Run(input, [4, 784], output, [4, 10]);

        var expected = TestModels.MlpReference(input, 4, 784, 32, 10, w1, b1, w2, b2);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], output[i], 1e-3f);
        }
    }

    [Fact]
    public void Metadata_lists_names_types_and_symbolic_dimensions()
    {
        var (model, _, _, _, _) = TestModels.Mlp(784, 8, 10, seed: 2);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));

        var input = Assert.Single(session.Inputs);
        Assert.Equal("input", input.Name);
        Assert.Equal(OnnxValueKind.Tensor, input.Kind);
        Assert.Equal(OnnxElementType.Float, input.ElementType);
        Assert.Equal([-1L, 784L], input.Shape);
        Assert.Equal("logits", Assert.Single(session.Outputs).Name);
    }

    [Theory]
    [InlineData(true, true, OnnxGraphOptimization.All)]
    [InlineData(false, false, OnnxGraphOptimization.Disabled)]
    [InlineData(false, true, OnnxGraphOptimization.Basic)]
    public void Every_option_combination_gives_the_same_answer(bool arena, bool pattern, OnnxGraphOptimization level)
    {
        var (model, w1, b1, w2, b2) = TestModels.Mlp(16, 8, 3, seed: 3);
        var options = new OnnxSessionOptions
        {
            CpuArena = arena, MemoryPattern = pattern, OptimizationLevel = level, IntraOpThreads = 1, InterOpThreads = 1,
            ParallelExecution = !arena, ConfigEntries = new Dictionary<string, string> { ["session.intra_op.allow_spinning"] = "0" },
        };
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model), options);
        var input = Enumerable.Range(0, 2 * 16).Select(i => i * 0.1f - 1).ToArray();
        var output = new float[2 * 3];

        session.Run(input, [2, 16], output, [2, 3]);

        var expected = TestModels.MlpReference(input, 2, 16, 8, 3, w1, b1, w2, b2);
        Assert.Equal(expected, output, (a, b) => Math.Abs(a - b) < 1e-4f);
    }

    [Fact]
    public void Missing_provider_library_falls_back_to_cpu_with_one_log_line()
    {
        var (model, _, _, _, _) = TestModels.Mlp(4, 4, 2, seed: 4);
        var lines = new List<string>();
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model), new OnnxSessionOptions { ExecutionProvider = "cuda", Log = lines.Add });

        Assert.Equal(ExecutionProviders.Cpu, session.ExecutionProvider);
        var line = Assert.Single(lines);
        Assert.Contains("cuda", line, StringComparison.Ordinal);
        Assert.Contains("using CPU", line, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_provider_falls_back_to_cpu()
    {
        var (model, _, _, _, _) = TestModels.Mlp(4, 4, 2, seed: 4);
        var lines = new List<string>();
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model), new OnnxSessionOptions { ExecutionProvider = "npu9000", Log = lines.Add });

        Assert.Equal(ExecutionProviders.Cpu, session.ExecutionProvider);
        Assert.Contains("npu9000", Assert.Single(lines), StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shape_is_onnx_runtimes_error_as_an_exception()
    {
        var (model, _, _, _, _) = TestModels.Mlp(4, 4, 2, seed: 5);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        var input = new float[5];
        var output = new float[2];

        var ex = Assert.Throws<OnnxRuntimeException>(() => session.Run(input, [1, 5], output, [1, 2]));
        Assert.Equal(OrtErrorCode.InvalidArgument, ex.ErrorCode);
        Assert.Contains("input", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Buffer_shorter_than_shape_is_refused_before_the_native_call()
    {
        var (model, _, _, _, _) = TestModels.Mlp(4, 4, 2, seed: 5);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));

        Assert.Throws<ArgumentException>(() => session.Run(new float[3], [1, 4], new float[2], [1, 2]));
    }

    [Fact]
    public void Tensor_run_round_trips_strings_and_int64()
    {
        var g = new OnnxGraph("identity");
        g.AddInput("s", OnnxElementType.String, -1);
        g.AddInput("i", OnnxElementType.Int64, -1);
        g.Add("Identity", ["s"], "s_out");
        g.Add("Identity", ["i"], "i_out");
        g.AddOutput("s_out", OnnxElementType.String, -1);
        g.AddOutput("i_out", OnnxElementType.Int64, -1);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(new OnnxModel(g)));

        var outputs = session.Run([new OnnxTensor("s", [3], ["a", "", "ünïcode"]), OnnxTensor.FromInt64s("i", [long.MinValue, 7], 2)]);

        Assert.Equal(["a", "", "ünïcode"], outputs[0].Strings!);
        Assert.Equal([long.MinValue, 7L], outputs[1].AsSpan<long>().ToArray());
    }
}
