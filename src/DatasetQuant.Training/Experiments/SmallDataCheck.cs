using System.Globalization;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Experiments;

/// <summary>What <see cref="SmallDataCheck"/> runs: the sets, and one sweep's settings for each.</summary>
public sealed record SmallDataCheckOptions(
    IReadOnlyList<SmallDataSet> Sets,
    IReadOnlyList<double> Budgets,
    int Seeds,
    int Hidden,
    TrainingOptions Training,
    string WorkDirectory,
    IReadOnlyList<string> Methods);

/// <summary>One set's sweep.</summary>
public sealed record SmallDataResult(SmallDataSet Set, BudgetSweepResult Sweep);

/// <summary>
/// The forced-drop check: on each small set, the budget sweep of <see cref="BudgetSweep"/> (full precision, then
/// adaptive with pixel MSE and with the model measure against uniform selection), so that adaptive can be compared with
/// uniform where the budget forces samples out and where the seeds' spread is a large part of the difference.
/// </summary>
public static class SmallDataCheck
{
    public static IReadOnlyList<SmallDataResult> Run(SmallDataCheckOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var results = new List<SmallDataResult>();
        foreach (var set in options.Sets)
        {
            log($"{set.Name} (subset {set.DataSeed}): {set.Train.Count} training samples of {set.Train.Height}x{set.Train.Width}, {set.Test.Count} test samples");
            var shape = MlpShape.Parse(string.Create(CultureInfo.InvariantCulture, $"{set.Train.PixelsPerSample},{options.Hidden},{set.Train.ClassCount}"));
            var work = Path.Combine(options.WorkDirectory, string.Create(CultureInfo.InvariantCulture, $"{set.Name}-{set.DataSeed}"));
            Directory.CreateDirectory(work);
            var reference = set.Reference is null ? null : TrainReference(set.Reference, shape, options.Training, Path.Combine(work, "held-out-reference.onnx"), cancellationToken);
            var sweep = BudgetSweep.Run(
                new BudgetSweepOptions(set.Train, set.Test, options.Budgets, options.Seeds, shape, options.Training, work, reference, options.Methods),
                line => log($"{set.Name} (subset {set.DataSeed}): {line}"), cancellationToken);
            results.Add(new SmallDataResult(set, sweep));
        }

        return results;
    }

    /// <summary>The importance model trained on another subset: its loss on the training samples is a held-out loss.</summary>
    private static string TrainReference(ImageDataset data, MlpShape shape, TrainingOptions training, string path, CancellationToken cancellationToken)
    {
        var statistics = ChannelStatistics.Compute(data);
        var normalization = new InputNormalization(
            Array.ConvertAll(statistics.Mean, m => m / 255f), Array.ConvertAll(statistics.StandardDeviation, s => Math.Max(s / 255f, 1e-6f)));
        var model = MlpModel.CreateRandom(shape, 1);
        using (var trainer = new MlpTrainer(model, training with { Seed = 1, CheckpointPath = null }))
        {
            trainer.Train(new ImageDataSource(data, normalization), cancellationToken: cancellationToken);
        }

        MlpOnnxExporter.Save(model, path, normalization.ToMetadata());
        return path;
    }
}
