using System.CommandLine;
using System.Globalization;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using Spectre.Console;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq quantize</c>: a dataset into quantized shards under a bit budget.</summary>
internal static class QuantizeCommand
{
    public static Command Create()
    {
        var input = new Option<string>("--input") { Description = $"Input dataset: {DatasetSource.Grammar}", Required = true };
        var budget = new Option<string>("--budget") { Description = "Budget: bits per pixel of payload over all samples (2bpp), or a size that bounds the shard files, headers and index included (12MiB)", Required = true };
        var allocator = new Option<string>("--allocator") { Description = "adaptive | uniform | prune", DefaultValueFactory = _ => "adaptive" };
        allocator.AcceptOnlyFromAmong([.. BitAllocators.Names]);
        var output = new Option<string>("--out") { Description = "Folder for the .dqs shards", Required = true };
        var shardSize = new Option<string>("--shard-size") { Description = "Largest shard file", DefaultValueFactory = _ => "64MiB" };
        var seed = new Option<int>("--seed") { Description = "Seed of the prune allocator's subset", DefaultValueFactory = _ => 0 };
        var importance = new Option<string?>("--importance") { Description = "Reference ONNX classifier: a sample's distortion is the KL change of its predictions, its drop cost the model's loss on it; with --coverage classes used only where trusted (it predicts at most 3 % of the samples worse than chance and has not memorised them), else the pixel MSE allocates (default: pixel MSE)" };
        var coverage = new Option<string>("--coverage")
        {
            Description = "When adaptive must drop samples: classes = each class keeps its share, spread over its range (better training " +
                "accuracy); none = drop whatever costs least distortion (the plain optimum)",
            DefaultValueFactory = _ => "classes",
        };
        coverage.AcceptOnlyFromAmong("classes", "none");
        var codes = new Option<string>("--codes")
        {
            Description = "refit = each width its own fitted scale and centre (the least distortion a fixed width gives; SIMD decode); embedded = one threshold grid per " +
                "sample, b-bit codes the top bits of the 8-bit ones (each width its own reconstruction), and the greedy increment order written as {prefix}.dqo (what a " +
                "fleet serves budgets from as prefixes); planes = one nested grid per sample, each bit plane range-coded " +
                "(codec 2: 0.01–0.93× refit's pixel MSE at the same bytes on images of 14×14 and larger, up to 1.08× on 7×7; a serial decoder; allocated by the pixel MSE, no --importance)",
            DefaultValueFactory = _ => "refit",
        };
        codes.AcceptOnlyFromAmong("refit", "embedded", "planes");
        var command = new Command("quantize", "Quantize a dataset into .dqs shards: per-sample scales and centres, bit widths chosen under one budget.")
        {
            input, budget, allocator, output, shardSize, seed, importance, coverage, codes,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var budgetValue = Budget.Parse(parse.GetValue(budget)!);
            var shardBudget = Budget.Parse(parse.GetValue(shardSize)!);
            if (shardBudget.IsBitsPerPixel)
            {
                throw new FormatException("--shard-size is a size (e.g. 64MiB), not bits per pixel.");
            }

            var dataset = DatasetSource.Load(parse.GetValue(input)!);
            using var measure = parse.GetValue(importance) is { } model ? new DatasetQuant.Training.Evaluation.ModelDistortionMeasure(model) : null;
            var options = new QuantizeOptions
            {
                Budget = budgetValue,
                OutputDirectory = parse.GetValue(output)!,
                Allocator = BitAllocators.Create(parse.GetValue(allocator)!),
                ShardSizeBytes = shardBudget.Bytes,
                Seed = parse.GetValue(seed),
                DistortionMeasure = measure,
                ClassCoverage = parse.GetValue(coverage) == "classes",
                EmbeddedCodes = parse.GetValue(codes) == "embedded",
                PlaneCodes = parse.GetValue(codes) == "planes",
            };
            QuantizeResult? result = null;
            AnsiConsole.Progress()
                .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
                .Start(context =>
                {
                    var tasks = new Dictionary<QuantizeStage, ProgressTask>();
                    var progress = new SynchronousProgress<QuantizeProgress>(p =>
                    {
                        if (p.Stage == QuantizeStage.Done)
                        {
                            return;
                        }

                        if (!tasks.TryGetValue(p.Stage, out var task))
                        {
                            task = tasks[p.Stage] = context.AddTask(p.Stage.ToString().ToLowerInvariant(), maxValue: Math.Max(1, p.Total));
                        }

                        task.Value = p.Done;
                    });
                    result = DatasetQuantizer.Quantize(dataset, options, progress);
                    foreach (var task in tasks.Values)
                    {
                        task.Value = task.MaxValue;
                    }
                });

            Print(dataset, options, result!);
            return 0;
        }));
        return command;
    }

    private static void Print(ImageDataset dataset, QuantizeOptions options, QuantizeResult result)
    {
        var histogram = result.Histogram();
        var inv = CultureInfo.InvariantCulture;
        Console.WriteLine(string.Create(inv, $"{dataset.Name}: {dataset.Count} samples of {dataset.Channels}x{dataset.Height}x{dataset.Width}, allocator {options.Allocator.Name}, budget {options.Budget} = {result.BudgetBytes} {(options.Budget.IsBitsPerPixel ? "payload bytes" : "bytes of payload and whole index bytes per sample, after the rest of the index and the shards' fixed overhead")}"));
        Console.WriteLine(string.Create(inv, $"payload {result.PayloadBytes} bytes ({result.BitsPerPixel(dataset.PixelsPerSample):F4} bpp), files {result.FileBytes} bytes in {result.ShardPaths.Count} shard(s)"));
        Console.WriteLine(string.Create(inv, $"{(options.PlaneCodes ? "planes" : "widths")} 0..8: {string.Join(' ', histogram)}"));
        Console.WriteLine(string.Create(inv, $"pixel MSE {result.MeanSquaredError:F3}, PSNR {result.Psnr:F2} dB, {result.Elapsed.TotalSeconds:F1} s"));
        if (options.DistortionMeasure is { DropCostRanksSamples: true } measure)
        {
            var perValue = (double)dataset.Count / dataset.PixelsPerSample;
            var verdict = result.DropCostTrusted ? "trusted to choose optional drops"
                : !options.ClassCoverage ? "not trusted, but with --coverage none the plain optimum's drops stand"
                : result.UnfittableShare > AllocationProblem.TrustedUnfittableShare ? string.Create(inv, $"not trusted ({result.UnfittableShare:P1} of the samples predicted worse than chance, over {AllocationProblem.TrustedUnfittableShare:P0}: noisy or unlearnable labels, or a reference trained on other data), the pixel MSE allocates")
                : !result.MeasureTrusted ? $"not trusted (above {AllocationProblem.TrustedCoarseToDropRatio}: the reference has memorised the set), the pixel MSE allocates"
                : string.Create(inv, $"not trusted ({perValue:F1} samples per input value, under {AllocationProblem.TrustedSamplesPerValue}: too few to spare the easy ones), coverage chooses optional drops");
            Console.WriteLine(string.Create(inv, $"{measure.Name} drop prices: a 1-bit copy costs {result.CoarseToDropRatio:F3} of a drop on average (Σ w·D(1) / Σ w·D(0) over the samples predicted at least as well as chance); {verdict}"));
        }
        foreach (var path in result.ShardPaths)
        {
            Console.WriteLine(path);
        }
    }

    /// <summary>Reports on the calling thread (Progress&lt;T&gt; would post to the thread pool and race the final render).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        private readonly Lock _gate = new();

        public void Report(T value)
        {
            lock (_gate)
            {
                report(value);
            }
        }
    }
}
