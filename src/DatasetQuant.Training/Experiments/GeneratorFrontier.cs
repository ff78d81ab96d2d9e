using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Experiments;

/// <summary>What <see cref="GeneratorFrontier"/> runs.</summary>
/// <param name="FlashBytes">Flash budgets: what shards, generator or both may occupy, in bytes on disk.</param>
/// <param name="Ratios">Synthetic shares tried when shards and the generator are mixed.</param>
/// <param name="Presentations">Samples every training run sees (epochs = presentations / set size), so a small shard
/// set gets as many steps as the generator's 60,000 a pass.</param>
/// <param name="GeneratorSamples">Generated samples per pass when the generator trains alone (DiM's protocol).</param>
public sealed record GeneratorFrontierOptions(
    ImageDataset Train,
    ImageDataset Test,
    string GeneratorPath,
    IReadOnlyList<long> FlashBytes,
    IReadOnlyList<double> Ratios,
    int Seeds,
    MlpShape Shape,
    TrainingOptions Training,
    long Presentations,
    int GeneratorSamples,
    string WorkDirectory);

/// <summary>
/// Accuracy on the real test set against flash bytes for three ways to spend them: adaptive shards alone (the
/// adaptive allocator with pixel MSE, refitted until the shard files fit), the generator alone (an MLP trained only on
/// its samples: DiM's protocol), and the generator plus shards in the bytes it leaves, mixed at each ratio. Shards are
/// also trained alone at those leftover bytes, which is the comparison a device that already holds the generator
/// makes. Every run starts from the same seeded random model with the same schedule.
/// </summary>
public static class GeneratorFrontier
{
    public static GeneratorFrontierResult Run(GeneratorFrontierOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Seeds < 1 || options.FlashBytes.Count == 0 || options.FlashBytes.Any(b => b <= 0)
            || options.Ratios.Any(r => !(r > 0 && r < 1)) || options.Presentations <= 0 || options.GeneratorSamples <= 0)
        {
            throw new ArgumentException("the frontier needs seeds ≥ 1, positive budgets, ratios in (0, 1) and positive sample counts.", nameof(options));
        }

        log ??= _ => { };
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Directory.CreateDirectory(options.WorkDirectory);
        var statistics = ChannelStatistics.Compute(options.Train);
        var normalization = new InputNormalization(
            Array.ConvertAll(statistics.Mean, m => m / 255f), Array.ConvertAll(statistics.StandardDeviation, s => Math.Max(s / 255f, 1e-6f)));
        var test = new ImageDataSource(options.Test, normalization);
        var generatorBytes = new FileInfo(options.GeneratorPath).Length
            + new FileInfo(DatasetQuant.Onnx.Generators.GeneratorManifest.PathFor(options.GeneratorPath)).Length;
        var cells = new List<FrontierCell>();

        var alone = Seeded(options, seed =>
        {
            using var generator = new GeneratorDataSource(options.GeneratorPath, options.GeneratorSamples, normalization, (ulong)seed);
            return TrainAndEvaluate(generator, options, seed, normalization, test, cancellationToken);
        });
        cells.Add(new FrontierCell(FrontierCell.Generator, generatorBytes, 0, options.GeneratorSamples, 1, alone));
        log(FormattableString.Invariant($"generator alone ({generatorBytes} bytes, {options.GeneratorSamples} samples a pass): {alone.Average():F4}"));

        var shardBudgets = options.FlashBytes.Concat(options.FlashBytes.Where(b => b > generatorBytes).Select(b => b - generatorBytes)).Distinct().Order();
        var shardSets = new Dictionary<long, (string[] Paths, long Bytes, int Samples)>();
        foreach (var budget in shardBudgets)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var set = QuantizeToFit(options, budget, cancellationToken);
            shardSets[budget] = set;
            var accuracies = Seeded(options, seed =>
            {
                using var shards = ShardDataSource.Open(set.Paths, normalization);
                return TrainAndEvaluate(shards, options, seed, normalization, test, cancellationToken);
            });
            cells.Add(new FrontierCell(FrontierCell.Shards, set.Bytes, set.Bytes, set.Samples, 0, accuracies));
            log(FormattableString.Invariant($"shards at {budget} bytes ({set.Bytes} on flash, {set.Samples} samples): {accuracies.Average():F4}"));
        }

        foreach (var budget in options.FlashBytes.Where(b => b > generatorBytes))
        {
            var set = shardSets[budget - generatorBytes];
            foreach (var ratio in options.Ratios)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var accuracies = Seeded(options, seed =>
                {
                    using var shards = ShardDataSource.Open(set.Paths, normalization);
                    var synthetic = (int)Math.Ceiling(shards.Count * ratio / (1 - ratio));
                    using var generator = new GeneratorDataSource(options.GeneratorPath, Math.Max(1, synthetic), normalization, (ulong)seed);
                    var mixed = new MixedDataSource(shards, generator, ratio, options.Training.BatchSize);
                    return TrainAndEvaluate(mixed, options, seed, normalization, test, cancellationToken);
                });
                cells.Add(new FrontierCell(FrontierCell.Both, set.Bytes + generatorBytes, set.Bytes, set.Samples, ratio, accuracies));
                log(FormattableString.Invariant($"shards ({set.Bytes} bytes) + generator at ratio {ratio}: {accuracies.Average():F4}"));
            }
        }

        return new GeneratorFrontierResult(cells, generatorBytes, options.Seeds, options.Presentations, options.Shape.ToString(),
            options.Train.Count, options.Test.Count, clock.Elapsed);
    }

    /// <summary>
    /// Adaptive shards whose files (header, index and payload) fit <paramref name="flashBytes"/>: the allocator's
    /// budget counts payload only, so the overhead of what one attempt wrote is taken off the next attempt's budget.
    /// </summary>
    private static (string[] Paths, long Bytes, int Samples) QuantizeToFit(GeneratorFrontierOptions options, long flashBytes, CancellationToken cancellationToken)
    {
        var payload = flashBytes;
        for (var attempt = 0; attempt < 4 && payload > 0; attempt++)
        {
            var directory = Path.Combine(options.WorkDirectory, FormattableString.Invariant($"shards-{flashBytes}-{attempt}"));
            var result = DatasetQuantizer.Quantize(options.Train, new QuantizeOptions
            {
                Budget = Budget.FromBytes(payload),
                OutputDirectory = directory,
                Allocator = BitAllocators.Create("adaptive"),
                Seed = 0,
            }, cancellationToken: cancellationToken);
            var bytes = result.ShardPaths.Sum(p => new FileInfo(p).Length);
            if (bytes <= flashBytes)
            {
                return ([.. result.ShardPaths], bytes, result.Bits.Count(b => b > 0));
            }

            payload -= bytes - flashBytes + 64;
        }

        throw new InvalidOperationException(FormattableString.Invariant($"no adaptive shard set fits {flashBytes} bytes: the index and headers alone need more"));
    }

    private static List<double> Seeded(GeneratorFrontierOptions options, Func<int, double> run)
    {
        var accuracies = new List<double>(options.Seeds);
        for (var seed = 1; seed <= options.Seeds; seed++)
        {
            accuracies.Add(run(seed));
        }

        return accuracies;
    }

    private static double TrainAndEvaluate(
        ITrainingDataSource data, GeneratorFrontierOptions options, int seed, InputNormalization normalization, ITrainingDataSource test,
        CancellationToken cancellationToken)
    {
        var epochs = (int)Math.Clamp(Math.Round((double)options.Presentations / data.Count), 1, 100_000);
        var model = MlpModel.CreateRandom(options.Shape, seed);
        using (var trainer = new MlpTrainer(model, options.Training with { Seed = seed, Epochs = epochs, CheckpointPath = null }))
        {
            trainer.Train(data, cancellationToken: cancellationToken);
        }

        var path = Path.Combine(options.WorkDirectory, $"model-{Guid.NewGuid():N}.onnx");
        MlpOnnxExporter.Save(model, path, normalization.ToMetadata());
        try
        {
            using var classifier = new OnnxClassifier(path);
            return ClassifierEvaluator.Evaluate(classifier, test).Accuracy;
        }
        finally
        {
            File.Delete(path);
        }
    }
}
