using DatasetQuant.Onnx;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

public sealed class MlpOnnxTests
{
    [Fact]
    public void An_exported_model_gives_the_trainers_logits_through_onnx_runtime()
    {
        using var temp = new TempDirectory("dq-onnx");
        var shape = new MlpShape(784, 64, 32, 10);
        var model = MlpModel.CreateRandom(shape, seed: 4);
        var path = temp.File("m.onnx");
        MlpOnnxExporter.Save(model, path);

        var samples = SgemmTests.Fill(new Random(8), 5 * 784);
        var expected = new MlpPass(shape, 5).Forward(model, samples, 5).ToArray();
        using var classifier = new OnnxClassifier(path);
        Assert.Equal(784, classifier.FeatureCount);
        Assert.Equal(10, classifier.ClassCount);
        var actual = new float[50];
        classifier.Predict(samples, 5, actual);
        for (var i = 0; i < actual.Length; i++)
        {
            Assert.True(Math.Abs(actual[i] - expected[i]) <= 1e-4f * (1 + Math.Abs(expected[i])), $"logit {i}: {actual[i]} vs {expected[i]}");
        }
    }

    [Fact]
    public void Import_reads_back_exactly_what_export_wrote()
    {
        var model = MlpModel.CreateRandom(new MlpShape(20, 9, 4), seed: 6);
        model.Bias(0)[3] = 0.25f;
        var back = MlpOnnxImporter.FromOnnx(OnnxModelReader.Read(OnnxModelWriter.Write(MlpOnnxExporter.ToOnnx(model))), "m.onnx");
        Assert.Equal(model.Shape, back.Shape);
        Assert.Equal(model.Parameters, back.Parameters);
    }

    [Fact]
    public void Import_takes_pytorch_style_transposed_weights()
    {
        // fc: W stored [out=2, in=3] with transB = 1.
        var graph = new OnnxGraph("torch");
        var x = graph.AddInput("x", OnnxElementType.Float, -1, 3);
        graph.Gemm(x, "fc", [1, 2, 3, 4, 5, 6], [0.5f, -0.5f], 3, 2, output: "y");
        graph.AddOutput("y", OnnxElementType.Float, -1, 2);
        var model = MlpOnnxImporter.FromOnnx(new OnnxModel(graph), "torch.onnx");
        Assert.Equal("3-2", model.Shape.ToString());
        Assert.Equal([1, 4, 2, 5, 3, 6], model.Weights(0).ToArray());
        Assert.Equal([0.5f, -0.5f], model.Bias(0).ToArray());
    }

    [Fact]
    public void Import_refuses_a_model_that_is_not_an_mlp_by_node()
    {
        var graph = new OnnxGraph("conv");
        var x = graph.AddInput("x", OnnxElementType.Float, -1, 1, 4, 4);
        graph.Conv(x, "c1", new float[9], [0f], 1, 1, 3, 1, 1, output: "y");
        graph.AddOutput("y", OnnxElementType.Float, -1, 1, 4, 4);
        var ex = Assert.Throws<InvalidDataException>(() => MlpOnnxImporter.FromOnnx(new OnnxModel(graph), "g.onnx"));
        Assert.Equal("ONNX model 'g.onnx': node 'y' (Conv): only Gemm/Relu chains (with an optional Flatten and Softmax) can be trained.", ex.Message);
    }

    [Fact]
    public void Onnx_runtime_evaluation_agrees_with_the_trainer_on_real_data()
    {
        using var temp = new TempDirectory("dq-onnx");
        var model = MlpModel.CreateRandom(MlpShape.Default, seed: 3);
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 1, Seed = 3 }))
        {
            trainer.Train(FashionMnist.TrainSubset(4_000));
        }

        var path = temp.File("m.onnx");
        MlpOnnxExporter.Save(model, path);
        var test = FashionMnist.TestSubset(1_000);
        using var classifier = new OnnxClassifier(path);
        var viaOnnx = ClassifierEvaluator.Evaluate(classifier, test);
        var managed = ClassifierEvaluator.Evaluate(model, test);
        Assert.Equal(1_000, viaOnnx.Count);
        Assert.True(viaOnnx.Accuracy > 0.6, $"accuracy {viaOnnx.Accuracy}");
        Assert.True(Math.Abs(viaOnnx.Correct - managed.Correct) <= 2, $"ONNX {viaOnnx.Correct} vs managed {managed.Correct} correct");
        Assert.StartsWith($"accuracy: {viaOnnx.Accuracy:F4}\n", viaOnnx.Format(), StringComparison.Ordinal);
    }
}
