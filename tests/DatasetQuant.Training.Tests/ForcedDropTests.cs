using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Experiments;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

/// <summary>
/// The forced-drop rule on a small real set (1,297 Fashion-MNIST images at 8×8) with a reference model trained on it,
/// as `dq experiment small-data` runs it.
/// </summary>
public sealed class ForcedDropTests
{
    private static readonly Lazy<SmallDataSet> Set = new(() =>
        SmallDataSets.Create("fmnist-8x8", DatasetSource.Load("fashion-mnist:train"), DatasetSource.Load("fashion-mnist:test"), 1297, seed: 1));

    private static string TrainReference(ImageDataset train, TempDirectory temp)
    {
        var statistics = ChannelStatistics.Compute(train);
        var normalization = new InputNormalization([statistics.Mean[0] / 255f], [statistics.StandardDeviation[0] / 255f]);
        var model = MlpModel.CreateRandom(MlpShape.Parse("64,256,10"), 1);
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = 40, Seed = 1 }))
        {
            trainer.Train(new ImageDataSource(train, normalization));
        }

        var path = temp.File("reference.onnx");
        MlpOnnxExporter.Save(model, path, normalization.ToMetadata());
        return path;
    }

    private static QuantizeResult Quantize(ImageDataset train, ModelDistortionMeasure measure, double bpp, bool coverage, TempDirectory temp) =>
        DatasetQuantizer.Quantize(train, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(bpp),
            OutputDirectory = temp.File(FormattableString.Invariant($"{bpp}-{coverage}")),
            DistortionMeasure = measure,
            ClassCoverage = coverage,
            MaxDegreeOfParallelism = 1,
        });

    [Fact]
    public void A_forced_drop_keeps_every_sample_the_budget_affords_though_the_model_optimum_keeps_fewer()
    {
        using var temp = new TempDirectory("dq-forced");
        var train = Set.Value.Train;
        using var measure = new ModelDistortionMeasure(TrainReference(train, temp));

        var optimum = Quantize(train, measure, 0.5, coverage: false, temp);
        var adaptive = Quantize(train, measure, 0.5, coverage: true, temp);

        // 0.5 bpp of 64-pixel samples is 4 bytes each: half of them at 1 bit (8 bytes).
        var affordable = (int)(Budget.FromBitsPerPixel(0.5).PayloadBytes(train.Count, 64) / 8);
        var optimumKept = optimum.Bits.Count(b => b > 0);
        Assert.True(optimumKept < affordable * 0.8,
            $"the reference's loss on its own training samples prices a drop below a 1-bit copy, so the plain optimum keeps fewer than the {affordable} affordable; it kept {optimumKept}");
        Assert.Equal(affordable, adaptive.Bits.Count(b => b > 0));
        Assert.All(adaptive.Bits, b => Assert.InRange(b, 0, 1));

        // Each class keeps its share: the subset is balanced because the set is.
        var perClass = Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, train.Count).Count(i => train.Label(i) == c && adaptive.Bits[i] > 0)).ToArray();
        Assert.All(perClass, k => Assert.InRange(k, 64, 65));
    }

    [Fact]
    public void Where_the_budget_affords_every_sample_the_model_optimum_still_chooses_its_drops()
    {
        using var temp = new TempDirectory("dq-optional");
        var train = Set.Value.Train;
        using var measure = new ModelDistortionMeasure(TrainReference(train, temp));

        var result = Quantize(train, measure, 1, coverage: true, temp);

        var dropped = result.Bits.Count(b => b == 0);
        Assert.InRange(dropped, 1, train.Count - 1);
        Assert.Contains(result.Bits, b => b >= 2);
        Assert.True(result.PayloadBytes <= result.BudgetBytes);
    }
}
