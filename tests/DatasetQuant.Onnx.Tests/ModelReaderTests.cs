using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;

namespace DatasetQuant.Onnx.Tests;

public sealed class ModelReaderTests
{
    [Fact]
    public void Written_model_reads_back_with_its_initializers_nodes_and_shapes()
    {
        var (model, w1, b1, w2, _) = TestModels.Mlp(784, 16, 10, seed: 7);
        model.Metadata["dataset"] = "fashion-mnist";

        var read = OnnxModelReader.Read(OnnxModelWriter.Write(model), "mlp.onnx");

        Assert.Equal(model.IrVersion, read.IrVersion);
        Assert.Equal(17, read.Opsets[string.Empty]);
        Assert.Equal("fashion-mnist", read.Metadata["dataset"]);
        Assert.Equal(["Gemm", "Relu", "Gemm"], read.Graph.Nodes.Select(n => n.OpType));
        Assert.Equal(1, read.Graph.Nodes[0].Attribute("transB")!.IntValue);
        var fc1 = read.Graph.Initializer("fc1.weight")!;
        Assert.Equal([16L, 784L], fc1.Shape);
        Assert.Equal(w1, fc1.ToFloatArray());
        Assert.Equal(b1, read.Graph.Initializer("fc1.bias")!.ToFloatArray());
        Assert.Equal(w2, read.Graph.Initializer("fc2.weight")!.ToFloatArray());
        Assert.Equal([-1L, 784L], read.Graph.Inputs[0].Shape);
        Assert.Equal("N", read.Graph.Inputs[0].DimensionNames![0]);
    }

    [Fact]
    public void Reads_an_onnx_model_written_by_the_onnx_python_tools()
    {
        // test_gemm_default_matrix_bias: a model Debian ships, written by onnx's own exporter.
        var path = Path.Combine(TestData.OnnxTestDataDirectory, "node", "test_gemm_all_attributes", "model.onnx");

        var model = OnnxModelReader.ReadFile(path);

        var gemm = Assert.Single(model.Graph.Nodes);
        Assert.Equal("Gemm", gemm.OpType);
        Assert.Equal(0.25f, gemm.Attribute("alpha")!.FloatValue);
        Assert.Equal(3, model.Graph.Inputs.Count);
    }

    [Fact]
    public void Truncated_model_is_a_clear_error_naming_the_file()
    {
        var (model, _, _, _, _) = TestModels.Mlp(784, 16, 10, seed: 7);
        var bytes = OnnxModelWriter.Write(model);

        for (var cut = 1; cut < bytes.Length; cut += bytes.Length / 97)
        {
            var ex = Record.Exception(() => OnnxModelReader.Read(bytes.AsSpan(0, cut), "cut.onnx"));
            Assert.IsType<OnnxFormatException>(ex);
            Assert.Contains("cut.onnx", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Random_bytes_never_crash_the_reader()
    {
        var random = new Random(11);
        for (var i = 0; i < 500; i++)
        {
            var bytes = new byte[random.Next(1, 300)];
            random.NextBytes(bytes);
            var ex = Record.Exception(() => OnnxModelReader.Read(bytes, "noise.onnx"));
            Assert.True(ex is null or OnnxFormatException or ArgumentException, ex?.ToString());
        }
    }

    [Fact]
    public void Tensor_whose_dims_disagree_with_its_data_is_refused()
    {
        var bytes = OnnxModelWriter.WriteTensor(OnnxTensor.FromFloats("t", [1f, 2f, 3f], 3));
        var tensor = OnnxTensorReader.Read(bytes, "t.pb");
        Assert.Equal([1f, 2f, 3f], tensor.ToFloatArray());

        // Flip dims from 3 to 4: the raw data no longer matches and the reader says so.
        var corrupt = (byte[])bytes.Clone();
        var dimIndex = Array.IndexOf(corrupt, (byte)3, 1);
        corrupt[dimIndex] = 4;
        var ex = Assert.Throws<OnnxFormatException>(() => OnnxTensorReader.Read(corrupt, "t.pb"));
        Assert.Contains("raw_data", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Corrupt_and_truncated_model_files_give_onnx_runtime_errors_naming_the_file()
    {
        using var dir = new TempDirectory();
        var (model, _, _, _, _) = TestModels.Mlp(8, 4, 2, seed: 1);
        var bytes = OnnxModelWriter.Write(model);
        var truncated = dir.File("truncated.onnx");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        var garbage = dir.File("garbage.onnx");
        File.WriteAllText(garbage, "this is not a model");

        var ex1 = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Load(truncated));
        Assert.Contains("truncated.onnx", ex1.Message, StringComparison.Ordinal);
        var ex2 = Assert.Throws<OnnxRuntimeException>(() => OnnxSession.Load(garbage));
        Assert.Contains("garbage.onnx", ex2.Message, StringComparison.Ordinal);
        Assert.Throws<FileNotFoundException>(() => OnnxSession.Load(dir.File("missing.onnx")));
    }
}
