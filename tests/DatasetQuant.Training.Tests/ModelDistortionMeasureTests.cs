using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

public sealed class ModelDistortionMeasureTests
{
    [Fact]
    public void The_quantizer_with_a_trained_reference_model_measures_less_loss_at_more_bits()
    {
        using var temp = new TempDirectory("dq-kl");
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(800);
        var normalization = new InputNormalization([0.2860f], [0.3530f]);
        var model = MlpModel.CreateRandom(MlpShape.Default, 1);
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 3, Seed = 1 }))
        {
            trainer.Train(new ImageDataSource(dataset, normalization));
        }

        var path = temp.File("ref.onnx");
        MlpOnnxExporter.Save(model, path, normalization.ToMetadata());
        using var measure = new ModelDistortionMeasure(path, batchSize: 200);
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), measure, clipSearch: 1, maxDegreeOfParallelism: 1, progress: null, CancellationToken.None);

        double Mean(int bits) => Enumerable.Range(0, dataset.Count).Average(i => table.Distortion[(i * 9) + bits]);
        Assert.All(table.Distortion, d => Assert.True(d >= 0 && double.IsFinite(d)));
        Assert.True(Mean(0) > Mean(1) && Mean(1) > Mean(3) && Mean(3) > Mean(8), $"mean KL by width: {string.Join(", ", Enumerable.Range(0, 9).Select(b => Mean(b).ToString("G3")))}");
        Assert.True(Mean(8) < 1e-3, $"KL at 8 bits is {Mean(8)}");
        Assert.True(Mean(0) > 0.5, $"KL of the mean image is only {Mean(0)}");
    }

    [Fact]
    public void A_reference_model_of_another_input_size_is_refused_by_name()
    {
        using var temp = new TempDirectory("dq-kl");
        var path = temp.File("small.onnx");
        MlpOnnxExporter.Save(MlpModel.CreateRandom(new MlpShape(64, 10), 1), path);
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(10);
        using var measure = new ModelDistortionMeasure(path);
        var ex = Assert.Throws<InvalidDataException>(() =>
            DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), measure, 1, 1, null, CancellationToken.None));
        Assert.Equal($"importance model '{path}' takes 64 values per sample, the dataset's samples have 784 (1x28x28).", ex.Message);
    }
}
