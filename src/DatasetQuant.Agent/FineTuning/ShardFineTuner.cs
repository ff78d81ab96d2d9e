using System.Buffers;
using DatasetQuant.Agent.Configuration;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// Fine-tunes the device's MLP classifier offline with DatasetQuant.Training: the held shards, minus a seeded
/// held-out fraction on which the accuracy is measured; starts from the previous model when its shape fits. The model
/// is written atomically after training, so a shutdown mid-run leaves the previous one.
/// </summary>
public sealed partial class ShardFineTuner(IOptions<FineTuneOptions> options, ILogger<ShardFineTuner> logger) : IDeviceTrainer
{
    public const string ModelRelativePath = "model/classifier.onnx";
    private const long SplitSeed = 20_251_121;
    private const int BatchSize = 64;

    public Task<FineTuneResult> FineTuneAsync(FineTuneRequest request, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Run(request, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The shards of the most recently written dataset directory under <c>{data}/datasets</c>.</summary>
    public static IReadOnlyList<string> FindShards(string dataDirectory)
    {
        var datasets = Path.Combine(dataDirectory, "datasets");
        if (!Directory.Exists(datasets))
        {
            return [];
        }

        var newest = Directory.EnumerateDirectories(datasets)
            .Select(dir => (Dir: dir, Shards: Directory.GetFiles(dir, "*.dqs")))
            .Where(d => d.Shards.Length > 0)
            .OrderByDescending(d => d.Shards.Max(File.GetLastWriteTimeUtc))
            .FirstOrDefault();
        return newest.Shards is null ? [] : [.. newest.Shards.Order(StringComparer.Ordinal)];
    }

    private FineTuneResult Run(FineTuneRequest request, CancellationToken cancellationToken)
    {
        var shards = request.ShardPaths is { Count: > 0 } given ? given : FindShards(request.DataDirectory);
        if (shards.Count == 0)
        {
            return new FineTuneResult(false, $"no shards under {Path.Combine(request.DataDirectory, "datasets")} yet");
        }

        using var source = ShardDataSource.Open(shards);
        var (trainIndices, heldOutIndices) = Split(source.Count, request.HeldOutFraction);
        if (trainIndices.Length == 0 || heldOutIndices.Length == 0)
        {
            return new FineTuneResult(false, $"{source.Count} samples are too few to train and hold some out");
        }

        var settings = options.Value;
        var shardTrain = new IndexedDataSource(source, trainIndices);
        var heldOut = new IndexedDataSource(source, heldOutIndices);
        if (!string.IsNullOrEmpty(settings.GeneratorPath) && !File.Exists(settings.GeneratorPath))
        {
            return new FineTuneResult(false, $"FineTune:GeneratorPath {settings.GeneratorPath} does not exist");
        }

        var mix = GeneratorMix.Choose(settings.GeneratorPath, settings.SyntheticRatio, request.DataDirectory, shards.Sum(p => new FileInfo(p).Length));
        LogGeneratorChoice(logger, mix.Path ?? "none", mix.Ratio, mix.Reason);

        // Generator samples are drawn fresh each epoch and normalised like the shards; the held-out split stays real.
        using var generator = mix.Path is null || mix.Ratio == 0
            ? null
            : new GeneratorDataSource(mix.Path, Math.Max(1, shardTrain.Count), source.Normalization, (ulong)SplitSeed, BatchSize);
        ITrainingDataSource train = generator is null ? shardTrain : new MixedDataSource(shardTrain, generator, mix.Ratio, BatchSize);
        var generatorSamples = train.Count - shardTrain.Count;
        var modelPath = Path.Combine(request.DataDirectory, ModelRelativePath);
        var model = StartingModel(modelPath, source.SampleLength, source.ClassCount);
        var trainingOptions = new TrainingOptions
        {
            Epochs = settings.Epochs,
            BatchSize = BatchSize,
            LearningRate = 0.05f,
            WarmupSteps = 20,
            Seed = SplitSeed,
            Parallelism = request.OnnxRuntime.IntraOpThreads,
        };
        using (var trainer = new MlpTrainer(model, trainingOptions))
        {
            trainer.Train(train, progress: null, cancellationToken);
        }

        var accuracy = Accuracy(model, heldOut);
        Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
        MlpOnnxExporter.Save(model, modelPath, source.Normalization.ToMetadata());
        return new FineTuneResult(true, $"{settings.Epochs} epochs on {train.Description}; generator: {mix.Reason}", accuracy,
            TrainSamples: shardTrain.Count, GeneratorSamples: generatorSamples, HeldOutSamples: heldOut.Count, ModelPath: modelPath);
    }

    private MlpModel StartingModel(string modelPath, int inputs, int classes)
    {
        if (File.Exists(modelPath))
        {
            try
            {
                var previous = MlpOnnxImporter.Load(modelPath);
                if (previous.Shape.Sizes[0] == inputs && previous.Shape.Sizes[^1] == classes)
                {
                    return previous;
                }

                LogShapeChanged(logger, modelPath);
            }
            catch (InvalidDataException ex)
            {
                LogUnreadable(logger, modelPath, ex.Message);
            }
        }

        return MlpModel.CreateRandom(new MlpShape([inputs, 128, classes]), SplitSeed);
    }

    private static (int[] Train, int[] HeldOut) Split(int count, double heldOutFraction)
    {
        var order = Enumerable.Range(0, count).ToArray();
        new Random(unchecked((int)SplitSeed)).Shuffle(order);
        var heldOut = (int)Math.Round(count * heldOutFraction);
        return (order[heldOut..], order[..heldOut]);
    }

    private static double Accuracy(MlpModel model, ITrainingDataSource data)
    {
        const int Batch = 256;
        var pass = new MlpPass(model.Shape, Batch);
        var samples = new float[Batch * data.SampleLength];
        var labels = new int[Batch];
        var indices = new int[Batch];
        var classes = data.ClassCount;
        var correct = 0;
        for (var start = 0; start < data.Count; start += Batch)
        {
            var n = Math.Min(Batch, data.Count - start);
            for (var i = 0; i < n; i++)
            {
                indices[i] = start + i;
            }

            data.ReadBatch(indices.AsSpan(0, n), samples.AsSpan(0, n * data.SampleLength), labels.AsSpan(0, n));
            var logits = pass.Forward(model, samples.AsSpan(0, n * data.SampleLength), n);
            for (var i = 0; i < n; i++)
            {
                var row = logits.Slice(i * classes, classes);
                var best = 0;
                for (var c = 1; c < classes; c++)
                {
                    best = row[c] > row[best] ? c : best;
                }

                correct += best == labels[i] ? 1 : 0;
            }
        }

        return (double)correct / data.Count;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Generator {Path} at synthetic share {Ratio}: {Reason}")]
    private static partial void LogGeneratorChoice(ILogger logger, string path, double ratio, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {Path} does not fit the dataset's shape; starting from random weights")]
    private static partial void LogShapeChanged(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model {Path} is unreadable ({Reason}); starting from random weights")]
    private static partial void LogUnreadable(ILogger logger, string path, string reason);

    /// <summary>A fixed subset of another source, in the order given.</summary>
    private sealed class IndexedDataSource(ITrainingDataSource inner, int[] indices) : ITrainingDataSource
    {
        public int Count => indices.Length;

        public int SampleLength => inner.SampleLength;

        public int ClassCount => inner.ClassCount;

        public string Description => $"{indices.Length} of {inner.Description}";

        public void ReadBatch(ReadOnlySpan<int> batch, Span<float> samples, Span<int> labels)
        {
            var mapped = ArrayPool<int>.Shared.Rent(batch.Length);
            try
            {
                for (var i = 0; i < batch.Length; i++)
                {
                    mapped[i] = indices[batch[i]];
                }

                inner.ReadBatch(mapped.AsSpan(0, batch.Length), samples, labels);
            }
            finally
            {
                ArrayPool<int>.Shared.Return(mapped);
            }
        }
    }
}
