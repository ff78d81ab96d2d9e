using System.CommandLine;
using System.Globalization;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Optimization;
using DatasetQuant.Training.Training;
using Spectre.Console;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq train</c>: an MLP on shards (optionally mixed with generator samples), exported to ONNX.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<string[]>("--data") { Description = "Training data: .dqs shards or folders of them, or a dataset spec", AllowMultipleArgumentsPerToken = true };
        var generator = new Option<string?>("--generator") { Description = "A DiM generator (G.onnx with G.json beside it) whose samples join the training data" };
        var ratio = new Option<double>("--synthetic-ratio") { Description = "Fraction of each epoch drawn from the generator (1: generator alone)", DefaultValueFactory = _ => 0.5 };
        var syntheticCount = new Option<int>("--synthetic-samples") { Description = "Samples per epoch when training on the generator alone", DefaultValueFactory = _ => 60_000 };
        var init = new Option<string?>("--init") { Description = "Start from this ONNX MLP (fine-tuning) instead of random weights" };
        var epochs = new Option<int>("--epochs") { Description = "Epochs", DefaultValueFactory = _ => 10 };
        var output = new Option<string>("--out") { Description = "Where the trained model goes (.onnx)", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the initial weights and of the shuffles", DefaultValueFactory = _ => 1 };
        var hidden = new Option<string>("--hidden") { Description = "Hidden layer widths, e.g. 256 or 512,128", DefaultValueFactory = _ => "256" };
        var batch = new Option<int>("--batch-size") { Description = "Samples per step", DefaultValueFactory = _ => 128 };
        var lr = new Option<float>("--lr") { Description = "Base learning rate", DefaultValueFactory = _ => 0.05f };
        var momentum = new Option<float>("--momentum") { DefaultValueFactory = _ => 0.9f };
        var weightDecay = new Option<float>("--weight-decay") { DefaultValueFactory = _ => 5e-4f };
        var schedule = new Option<string>("--schedule") { Description = "cosine | step | constant", DefaultValueFactory = _ => "cosine" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Checkpoint file (default: OUT.ckpt); an existing one is resumed" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Also checkpoint every N steps inside an epoch", DefaultValueFactory = _ => 100 };
        var threads = new Option<int>("--threads") { Description = "Compute threads (0: one per core)", DefaultValueFactory = _ => 0 };
        var command = new Command("train", "Train an MLP classifier on the device's CPU from quantized shards and write it as ONNX.")
        {
            data, generator, ratio, syntheticCount, init, epochs, output, seed, hidden, batch, lr, momentum, weightDecay, schedule, checkpoint, checkpointEvery, threads,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var outPath = parse.GetValue(output)!;
            var initPath = parse.GetValue(init);
            InputNormalization? normalization = null;
            MlpModel? initial = null;
            if (initPath is not null)
            {
                initial = MlpOnnxImporter.Load(initPath);
                normalization = InputNormalization.FromMetadata(OnnxModelReader.ReadFile(initPath).Metadata, initPath);
            }

            var source = OpenSources(parse.GetValue(data) ?? [], parse.GetValue(generator), parse.GetValue(ratio), parse.GetValue(syntheticCount),
                normalization, (ulong)parse.GetValue(seed), parse.GetValue(batch));
            try
            {
                normalization ??= source is MixedSources mixed ? mixed.Normalization : TrainingInputs.NormalizationOf(source);
                var shape = initial?.Shape ?? BuildShape(source, parse.GetValue(hidden)!);
                var model = initial ?? MlpModel.CreateRandom(shape, parse.GetValue(seed));
                var options = new TrainingOptions
                {
                    Epochs = parse.GetValue(epochs),
                    BatchSize = parse.GetValue(batch),
                    LearningRate = parse.GetValue(lr),
                    Momentum = parse.GetValue(momentum),
                    WeightDecay = parse.GetValue(weightDecay),
                    Schedule = LearningRateSchedule.ParseKind(parse.GetValue(schedule)!),
                    Seed = parse.GetValue(seed),
                    CheckpointPath = parse.GetValue(checkpoint) ?? outPath + ".ckpt",
                    CheckpointEverySteps = parse.GetValue(checkpointEvery),
                    Parallelism = parse.GetValue(threads),
                };
                return Train(source, model, options, outPath, normalization);
            }
            finally
            {
                TrainingInputs.Close(source);
            }
        }));
        return command;
    }

    private static ITrainingDataSource OpenSources(
        string[] data, string? generator, double ratio, int syntheticSamples, InputNormalization? normalization, ulong seed, int batch)
    {
        if (generator is null)
        {
            return data.Length == 0 ? throw new ArgumentException("give --data, --generator, or both.") : TrainingInputs.Open(data, normalization);
        }

        if (!(ratio > 0 && ratio <= 1))
        {
            throw new ArgumentException($"--synthetic-ratio {ratio} must be in (0, 1].");
        }

        if (data.Length == 0 || ratio >= 1)
        {
            // DiM's protocol: train on synthetic samples only (test on real ones with dq eval).
            normalization ??= data.Length == 0
                ? throw new ArgumentException("training on a generator alone needs --init (a model that carries its normalisation) or --data to take it from.")
                : TrainingInputs.NormalizationOf(TrainingInputs.Peek(data));
            return new GeneratorDataSource(generator, syntheticSamples, normalization!, seed, batch);
        }

        var real = TrainingInputs.Open(data, normalization);
        try
        {
            var synthetic = new GeneratorDataSource(generator, Math.Max(1, real.Count), TrainingInputs.NormalizationOf(real)!, seed, batch);
            return new MixedSources(real, synthetic, new MixedDataSource(real, synthetic, ratio, batch));
        }
        catch
        {
            TrainingInputs.Close(real);
            throw;
        }
    }

    /// <summary>A mix that closes both of its sources.</summary>
    private sealed class MixedSources(ITrainingDataSource real, ITrainingDataSource synthetic, MixedDataSource mix) : ITrainingDataSource, IDisposable
    {
        public int Count => mix.Count;

        public int SampleLength => mix.SampleLength;

        public int ClassCount => mix.ClassCount;

        public string Description => mix.Description;

        public InputNormalization? Normalization => TrainingInputs.NormalizationOf(real);

        public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels) => mix.ReadBatch(indices, samples, labels);

        public void Dispose()
        {
            TrainingInputs.Close(real);
            TrainingInputs.Close(synthetic);
        }
    }

    private static MlpShape BuildShape(ITrainingDataSource source, string hidden)
    {
        var sizes = new List<int> { source.SampleLength };
        if (!string.IsNullOrWhiteSpace(hidden) && hidden != "0")
        {
            sizes.AddRange(MlpShape.Parse($"1,{hidden}").Sizes.Skip(1));
        }

        sizes.Add(source.ClassCount);
        return new MlpShape([.. sizes]);
    }

    private static int Train(ITrainingDataSource source, MlpModel model, TrainingOptions options, string outPath, InputNormalization? normalization)
    {
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"data: {source.Description}: {source.Count} samples of {source.SampleLength} values, {source.ClassCount} classes"));
        Console.WriteLine(string.Create(inv, $"model: MLP {model.Shape} ({model.Shape.ParameterCount} parameters), {options.Epochs} epochs, batch {options.BatchSize}, lr {options.LearningRate} {options.Schedule.ToString().ToLowerInvariant()}, seed {options.Seed}"));
        if (File.Exists(options.CheckpointPath))
        {
            Console.WriteLine($"resuming from checkpoint {options.CheckpointPath}");
        }

        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        TrainingResult? result = null;
        try
        {
            using var trainer = new MlpTrainer(model, options);
            if (!AnsiConsole.Profile.Capabilities.Interactive)
            {
                // Redirected output (logs, systemd): one line per epoch instead of a redrawn bar.
                result = trainer.Train(source, p =>
                {
                    if (p.EpochFinished)
                    {
                        Console.WriteLine(string.Create(inv, $"epoch {p.Epoch}/{p.Epochs} done: recent loss {p.RunningLoss:F4}, {p.SamplesPerSecond:N0} samples/s"));
                    }
                }, cancel.Token);
            }
            else
            {
                AnsiConsole.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(context =>
                    {
                        var task = context.AddTask("training", maxValue: 1);
                        result = trainer.Train(source, p =>
                        {
                            task.Description = string.Create(inv, $"epoch {p.Epoch}/{p.Epochs}  loss {p.RunningLoss:F4}  {p.SamplesPerSecond:N0} samples/s");
                            task.Value = ((double)(p.Epoch - 1) / p.Epochs) + ((double)p.SamplesDone / p.SamplesPerEpoch / p.Epochs);
                        }, cancel.Token);
                        task.Value = 1;
                    });
            }
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"stopped; run the same command again to resume from {options.CheckpointPath}.");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }

        if (result!.ResumedFromEpoch > 0 || result.ResumedFromBatch > 0)
        {
            Console.WriteLine(string.Create(inv, $"resumed at epoch {result.ResumedFromEpoch + 1}, batch {result.ResumedFromBatch + 1}"));
        }

        foreach (var epoch in result.Epochs)
        {
            Console.WriteLine(string.Create(inv, $"epoch {epoch.Epoch}: loss {epoch.MeanLoss:F4}, {epoch.Seconds:F2} s, {epoch.SamplesPerSecond:N0} samples/s"));
        }

        MlpOnnxExporter.Save(model, outPath, normalization?.ToMetadata());
        if (options.CheckpointPath is { } checkpoint && File.Exists(checkpoint))
        {
            // The model file now holds everything the checkpoint did that is still needed.
            File.Delete(checkpoint);
        }

        Console.WriteLine($"model: {outPath}");
        return 0;
    }
}
