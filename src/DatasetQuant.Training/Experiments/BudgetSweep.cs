using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Experiments;

/// <summary>What <see cref="BudgetSweep"/> runs: the data, the budgets, and one model and schedule for every cell.</summary>
public sealed record BudgetSweepOptions(
    ImageDataset Train,
    ImageDataset Test,
    IReadOnlyList<double> Budgets,
    int Seeds,
    MlpShape Shape,
    TrainingOptions Training,
    string WorkDirectory,
    string? ImportanceModel = null,
    IReadOnlyList<string>? Methods = null)
{
    /// <summary>The methods run at each budget (<see cref="BudgetSweepResult.Methods"/> when not set).</summary>
    public IReadOnlyList<string> MethodsToRun => Methods ?? BudgetSweepResult.Methods;
}

/// <summary>
/// Accuracy against bytes on the real test set: the full-precision baseline, then at each budget the dataset quantized
/// by the adaptive allocator (pixel MSE and model KL distortion), uniform widths, and random pruning at the same bytes;
/// every cell trained from scratch with the same model, schedule and seeds, and evaluated through ONNX Runtime.
/// The model-KL distortion uses <see cref="BudgetSweepOptions.ImportanceModel"/>, or the first full-precision model.
/// </summary>
public static class BudgetSweep
{
    public static BudgetSweepResult Run(BudgetSweepOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Seeds < 1 || options.Budgets.Count == 0 || options.Budgets.Any(b => !(b > 0 && b <= 8)))
        {
            throw new ArgumentException("a sweep needs at least one seed and budgets in (0, 8] bits per pixel.", nameof(options));
        }

        if (options.MethodsToRun.FirstOrDefault(m => !BudgetSweepResult.Methods.Contains(m)) is { } unknown)
        {
            throw new ArgumentException($"unknown sweep method '{unknown}'; expected {string.Join(", ", BudgetSweepResult.Methods)}.", nameof(options));
        }

        log ??= _ => { };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(options.WorkDirectory);
        var statistics = ChannelStatistics.Compute(options.Train);
        var normalization = new InputNormalization(
            Array.ConvertAll(statistics.Mean, m => m / 255f), Array.ConvertAll(statistics.StandardDeviation, s => Math.Max(s / 255f, 1e-6f)));
        var test = new ImageDataSource(options.Test, normalization);
        var pixels = options.Train.PixelsPerSample;

        var fullAccuracies = new List<double>();
        string? referenceModel = options.ImportanceModel;
        for (var seed = 1; seed <= options.Seeds; seed++)
        {
            var path = Path.Combine(options.WorkDirectory, $"full-seed{seed}.onnx");
            var accuracy = TrainAndEvaluate(new ImageDataSource(options.Train, normalization), options, seed, normalization, path, test, cancellationToken);
            fullAccuracies.Add(accuracy);
            referenceModel ??= path;
            log($"full precision, seed {seed}: accuracy {accuracy:F4}");
        }

        var fullBytes = (long)options.Train.Count * pixels;
        var full = new SweepCell("full", 8, fullBytes, 8, fullAccuracies);
        var cells = new List<SweepCell>();
        foreach (var budget in options.Budgets)
        {
            foreach (var method in options.MethodsToRun)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var directory = Path.Combine(options.WorkDirectory, FormattableString.Invariant($"{method}-{budget}bpp"));
                if (Directory.Exists(directory))
                {
                    Directory.Delete(directory, recursive: true);
                }

                using var measure = method == "adaptive-model" ? new ModelDistortionMeasure(referenceModel!) : null;
                var quantized = DatasetQuantizer.Quantize(options.Train, new QuantizeOptions
                {
                    Budget = Budget.FromBitsPerPixel(budget),
                    OutputDirectory = directory,
                    Allocator = BitAllocators.Create(method.StartsWith("adaptive", StringComparison.Ordinal) ? "adaptive" : method),
                    DistortionMeasure = measure,
                    Seed = 0,
                }, cancellationToken: cancellationToken);
                var bpp = quantized.BitsPerPixel(pixels);
                log(FormattableString.Invariant($"{method} at {budget} bpp: {quantized.PayloadBytes} payload bytes ({bpp:F3} bpp), widths {string.Join(' ', quantized.Histogram())}, R = Σw·D(1)/Σw·D(0) {quantized.CoarseToDropRatio:F3}, worse than chance {quantized.UnfittableShare:P1}{(quantized.MeasureTrusted ? "" : ", not trusted: the pixel MSE allocated")}"));
                var accuracies = new List<double>();
                for (var seed = 1; seed <= options.Seeds; seed++)
                {
                    using var shards = ShardDataSource.Open(quantized.ShardPaths, normalization);
                    var path = Path.Combine(directory, $"model-seed{seed}.onnx");
                    var accuracy = TrainAndEvaluate(shards, options, seed, normalization, path, test, cancellationToken);
                    accuracies.Add(accuracy);
                    log(FormattableString.Invariant($"{method} at {budget} bpp, seed {seed}: accuracy {accuracy:F4}"));
                }

                cells.Add(new SweepCell(method, budget, quantized.PayloadBytes, bpp, accuracies) { Widths = quantized.Histogram() });
            }
        }

        return new BudgetSweepResult(full, cells, options.Budgets, options.Seeds, options.Training.Epochs, options.Shape.ToString(),
            options.Train.Count, options.Test.Count, clock.Elapsed);
    }

    private static double TrainAndEvaluate(
        ITrainingDataSource data, BudgetSweepOptions options, int seed, InputNormalization normalization, string modelPath,
        ITrainingDataSource test, CancellationToken cancellationToken)
    {
        var model = MlpModel.CreateRandom(options.Shape, seed);
        using (var trainer = new MlpTrainer(model, options.Training with { Seed = seed, CheckpointPath = null }))
        {
            trainer.Train(data, cancellationToken: cancellationToken);
        }

        MlpOnnxExporter.Save(model, modelPath, normalization.ToMetadata());
        using var classifier = new OnnxClassifier(modelPath);
        return ClassifierEvaluator.Evaluate(classifier, test).Accuracy;
    }
}
