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
    private static readonly InputNormalization Normalization = new([0.2860f], [0.3530f]);

    /// <summary>A 784-256-10 MLP trained for 3 epochs on <paramref name="dataset"/>, saved with its normalisation.</summary>
    private static string TrainReference(ImageDataset dataset, TempDirectory temp)
    {
        var model = MlpModel.CreateRandom(MlpShape.Default, 1);
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 3, Seed = 1 }))
        {
            trainer.Train(new ImageDataSource(dataset, Normalization));
        }

        var path = temp.File("ref.onnx");
        MlpOnnxExporter.Save(model, path, Normalization.ToMetadata());
        return path;
    }

    [Fact]
    public void The_quantizer_with_a_trained_reference_model_measures_less_loss_at_more_bits()
    {
        using var temp = new TempDirectory("dq-kl");
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(800);
        var path = TrainReference(dataset, temp);
        using var measure = new ModelDistortionMeasure(path, batchSize: 200);
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), measure, clipSearch: 1, maxDegreeOfParallelism: 1, progress: null, CancellationToken.None);

        double Mean(int bits) => Enumerable.Range(0, dataset.Count).Average(i => table.Distortion[(i * 9) + bits]);
        Assert.All(table.Distortion, d => Assert.True(d >= 0 && double.IsFinite(d)));
        Assert.True(Mean(1) > Mean(3) && Mean(3) > Mean(8), $"mean KL by width: {string.Join(", ", Enumerable.Range(1, 8).Select(b => Mean(b).ToString("G3")))}");
        Assert.True(Mean(8) < 1e-3, $"KL at 8 bits is {Mean(8)}");
        Assert.True(measure.DropCostRanksSamples);

        // D(0) is the reference's cross-entropy on the original sample, computed here through the classifier directly.
        using var classifier = new OnnxClassifier(path);
        var input = new float[784];
        var logits = new float[10];
        foreach (var i in new[] { 0, 17, 399, 799 })
        {
            dataset.ReadPixels(i, input);
            for (var j = 0; j < input.Length; j++)
            {
                input[j] /= 255f;
            }

            Normalization.ApplyToUnitScale(input, 784);
            classifier.Predict(input, 1, logits);
            var max = logits.Max();
            var crossEntropy = max + Math.Log(logits.Sum(l => Math.Exp(l - max))) - logits[dataset.Label(i)];
            Assert.True(Math.Abs(table.Distortion[i * 9] - crossEntropy) <= 1e-4 + (1e-4 * crossEntropy),
                $"sample {i}: D(0) {table.Distortion[i * 9]}, cross-entropy {crossEntropy}");
        }
    }

    [Fact]
    public void At_one_bit_per_pixel_the_samples_the_reference_gets_right_make_room_for_wider_codes()
    {
        using var temp = new TempDirectory("dq-kl");
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(800);
        var path = TrainReference(dataset, temp);
        using var measure = new ModelDistortionMeasure(path, batchSize: 200);
        // The plain optimum, without class coverage: on 800 images of 784 pixels the coverage rule would not trust the
        // optimum's own drops (AllocationProblem.TrustedSamplesPerValue); this test is about what the measure prices.
        QuantizeResult Quantize(IDistortionMeasure? distortion, string name) => DatasetQuantizer.Quantize(dataset, new QuantizeOptions
        {
            Budget = Budget.Parse("1bpp"),
            OutputDirectory = temp.File(name),
            DistortionMeasure = distortion,
            ClassCoverage = false,
        });

        var model = Quantize(measure, "model");
        var pixel = Quantize(null, "pixel");

        // Pixel MSE has no use for a drop at 1 bpp; the model measure drops samples by choice and widens others.
        Assert.Equal(800, pixel.Histogram()[1]);
        var histogram = model.Histogram();
        Assert.True(histogram[0] > 0 && histogram.Skip(2).Sum() > 0, $"widths 0..8: {string.Join(' ', histogram)}");
        Assert.True(model.PayloadBytes <= model.BudgetBytes);

        // The dropped ones are those the reference is surest of: their mean cross-entropy is under a tenth of the kept samples'.
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), measure, 1, 1, null, CancellationToken.None);
        double MeanLoss(Func<byte, bool> which) => Enumerable.Range(0, 800).Where(i => which(model.Bits[i])).Average(i => table.Distortion[i * 9]);
        Assert.True(MeanLoss(b => b == 0) * 10 < MeanLoss(b => b > 0), $"mean D(0) dropped {MeanLoss(b => b == 0)}, kept {MeanLoss(b => b > 0)}");
    }

    [Fact]
    public void A_reference_model_of_another_input_size_is_refused_by_name()
    {
        var (path, error) = MeasureWithUntrainedReference(new MlpShape(64, 10));
        Assert.Equal($"importance model '{path}' takes 64 values per sample, the dataset's samples have 784 (1x28x28).", error.Message);
    }

    [Fact]
    public void A_reference_model_with_fewer_classes_than_the_labels_is_refused_by_name()
    {
        var (path, error) = MeasureWithUntrainedReference(new MlpShape(784, 5));
        Assert.Equal($"sample 0 has label {DatasetSource.Load("fashion-mnist:test").Label(0)}; importance model '{path}' has 5 classes.", error.Message);
    }

    /// <summary>Measures 10 test images with a random model of <paramref name="shape"/>; the error it must give.</summary>
    private static (string Path, InvalidDataException Error) MeasureWithUntrainedReference(MlpShape shape)
    {
        using var temp = new TempDirectory("dq-kl");
        var path = temp.File("reference.onnx");
        MlpOnnxExporter.Save(MlpModel.CreateRandom(shape, 1), path);
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(10);
        using var measure = new ModelDistortionMeasure(path);
        var error = Assert.Throws<InvalidDataException>(() =>
            DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), measure, 1, 1, null, CancellationToken.None));
        return (path, error);
    }
}
