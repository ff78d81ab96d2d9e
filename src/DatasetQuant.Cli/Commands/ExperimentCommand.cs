using System.CommandLine;
using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Experiments;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Optimization;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq experiment budget-sweep</c>: accuracy against bytes for every allocator, written as a table and an SVG plot.</summary>
internal static class ExperimentCommand
{
    public static Command Create()
    {
        var command = new Command("experiment", "Reproducible experiments whose results go into docs/results.md.");
        command.Subcommands.Add(CreateBudgetSweep());
        command.Subcommands.Add(SmallDataCommand.Create());
        command.Subcommands.Add(CreateEmbeddedCodes());
        command.Subcommands.Add(CreateFleetDelivery());
        command.Subcommands.Add(GeneratorFrontierCommand.Create());
        return command;
    }

    private static Command CreateFleetDelivery()
    {
        var input = new Option<string>("--input") { Description = $"Training set: {DatasetSource.Grammar}", DefaultValueFactory = _ => "fashion-mnist:test" };
        var test = new Option<string?>("--test") { Description = "Test set for the trained cells (none: no training)" };
        var budgets = new Option<string>("--budgets") { Description = "Device budgets in bits per pixel", DefaultValueFactory = _ => "0.25,0.5,1,2,4" };
        var sequence = new Option<string>("--sequence") { Description = "One device's budget sequence in bits per pixel", DefaultValueFactory = _ => "1,2,0.5" };
        var seeds = new Option<int>("--seeds") { Description = "Training seeds per cell (with --test)", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { DefaultValueFactory = _ => 10 };
        var limit = new Option<int>("--limit") { Description = "Use only the first N training samples (0: all)", DefaultValueFactory = _ => 0 };
        var work = new Option<string?>("--work") { Description = "Folder for shards and layers (default: a temp folder, deleted afterwards)" };
        var quotas = new Option<string>("--quotas") { Description = "Further devices given a byte budget each (e.g. 3MB,19.1MiB)", DefaultValueFactory = _ => "3MB" };
        var side = new Option<int>("--side") { Description = "Area-downsample train and test images to SIDE×SIDE first (0: as they are)", DefaultValueFactory = _ => 0 };
        var minimumLayer = new Option<string>("--min-layer") { Description = "Held size the first layer reaches", DefaultValueFactory = _ => "16KiB" };
        var budgetCuts = new Option<bool>("--budget-cuts")
        {
            Description = "End layers at the devices' budgets, as a coordinator does with the budgets it assigned (false: by growth alone)", DefaultValueFactory = _ => true,
        };
        var codes = new Option<string>("--codes")
        {
            Description = "The fleet's code: embedded (fixed-width, layer version 3) or planes (range-coded, layer version 5); the held copy is compared with dq quantize's refit and with dq quantize of the same code at the same bytes",
            DefaultValueFactory = _ => "embedded",
        };
        codes.AcceptOnlyFromAmong("embedded", "planes");
        var command = new Command("fleet-delivery", "Progressive delivery: per device budget, bytes received against bytes kept and the held copy against coordinator-side quantize; a budget sequence.")
        {
            input, test, budgets, sequence, seeds, epochs, limit, work, quotas, side, minimumLayer, budgetCuts, codes,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var train = DatasetSource.Load(parse.GetValue(input)!);
            if (parse.GetValue(limit) is > 0 and var n)
            {
                train = train.Take(n);
            }

            var testSet = parse.GetValue(test) is { } t ? DatasetSource.Load(t) : null;
            if (parse.GetValue(side) is > 0 and var s)
            {
                train = EmbeddedCodeExperiment.Downsample(train, s, train.Count);
                testSet = testSet is null ? null : EmbeddedCodeExperiment.Downsample(testSet, s, testSet.Count);
            }

            var quotaList = parse.GetValue(quotas)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(q => Budget.Parse(q) is { IsBitsPerPixel: false } b ? b.Bytes : throw new FormatException($"--quotas: '{q}' is not a size.")).ToArray();
            var directory = parse.GetValue(work);
            var own = directory is null;
            directory ??= Directory.CreateTempSubdirectory("dq-fleet-").FullName;
            try
            {
                var (rows, steps) = FleetDeliveryExperiment.Run(train, testSet, ParseBudgets(parse.GetValue(budgets)!), ParseBudgets(parse.GetValue(sequence)!), quotaList,
                    testSet is null ? 0 : parse.GetValue(seeds), parse.GetValue(epochs), Budget.Parse(parse.GetValue(minimumLayer)!).Bytes, parse.GetValue(budgetCuts), directory, line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"),
                    planes: parse.GetValue(codes) == "planes");
                Console.Write(FleetDeliveryExperiment.Format(
                    string.Create(CultureInfo.InvariantCulture, $"{train.Name}: {train.Count} samples of {train.Channels}x{train.Height}x{train.Width}"), rows, steps));
                return 0;
            }
            finally
            {
                if (own)
                {
                    Directory.Delete(directory, recursive: true);
                }
            }
        }));
        return command;
    }

    private static Command CreateEmbeddedCodes()
    {
        var common = new DistortionExperimentOptions();
        var coverage = new Option<string>("--coverage") { Description = "classes | none, as in dq quantize", DefaultValueFactory = _ => "classes" };
        coverage.AcceptOnlyFromAmong("classes", "none");
        var command = new Command("embedded-codes", "Pixel MSE of per-width refitted quantizers against embedded codes and the embedded increment order's prefix, at the same bytes.");
        common.AddTo(command);
        command.Options.Add(coverage);
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var dataset = common.Dataset(parse);
            var rows = EmbeddedCodeExperiment.Run(dataset, common.Budgets(parse), parse.GetValue(coverage) == "classes");
            Console.Write(EmbeddedCodeExperiment.Format(
                string.Create(CultureInfo.InvariantCulture, $"{dataset.Name}: {dataset.Count} samples of {dataset.Channels}x{dataset.Height}x{dataset.Width}, coverage {parse.GetValue(coverage)}"), rows));
            return 0;
        }));
        return command;
    }

    internal static double[] ParseBudgets(string text) => text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
        .Select(b => double.TryParse(b.Replace("bpp", string.Empty, StringComparison.OrdinalIgnoreCase), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v is > 0 and <= 8
            ? v : throw new FormatException($"--budgets: '{b}' is not a number of bits per pixel in (0, 8]."))
        .ToArray();

    private static Command CreateBudgetSweep()
    {
        var input = new Option<string>("--input") { Description = "Training set (fashion-mnist means its train split)", DefaultValueFactory = _ => "fashion-mnist" };
        var test = new Option<string?>("--test") { Description = "Test set (default: the test split of --input for fashion-mnist)" };
        var budgets = new Option<string>("--budgets") { Description = "Budgets in bits per pixel", DefaultValueFactory = _ => "0.25,0.5,1,2,4" };
        var seeds = new Option<int>("--seeds") { Description = "Training seeds per cell", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of every training run", DefaultValueFactory = _ => 10 };
        var hidden = new Option<string>("--hidden") { DefaultValueFactory = _ => "256" };
        var limit = new Option<int>("--limit") { Description = "Use only the first N training samples (0: all)", DefaultValueFactory = _ => 0 };
        var importance = new Option<string?>("--importance") { Description = "Reference classifier for the model-KL cells (default: the first full-precision model)" };
        var output = new Option<string>("--out") { Description = "Markdown file the table goes into (its sweep block is replaced)", Required = true };
        var svg = new Option<string?>("--svg") { Description = "SVG plot (default: budget-sweep.svg beside --out)" };
        var work = new Option<string?>("--work") { Description = "Folder for shards and models (default: a temp folder, deleted afterwards)" };
        var methods = new Option<string>("--methods") { Description = $"Methods per budget ({string.Join(", ", BudgetSweepResult.Methods)})", DefaultValueFactory = _ => string.Join(',', BudgetSweepResult.Methods) };
        var command = new Command("budget-sweep", "Full precision, adaptive (pixel and model importance), uniform and random pruning at the same bytes, trained and tested.")
        {
            input, test, budgets, seeds, epochs, hidden, limit, importance, output, svg, work, methods,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var inputSpec = parse.GetValue(input)!;
            var testSpec = parse.GetValue(test) ?? (inputSpec.StartsWith("fashion-mnist", StringComparison.OrdinalIgnoreCase)
                ? "fashion-mnist:test"
                : throw new ArgumentException("--test is required unless --input is fashion-mnist."));
            var budgetList = parse.GetValue(budgets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(b => double.TryParse(b.Replace("bpp", string.Empty, StringComparison.OrdinalIgnoreCase), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new FormatException($"--budgets: '{b}' is not a number of bits per pixel."))
                .ToArray();
            var train = DatasetSource.Load(inputSpec);
            if (parse.GetValue(limit) is > 0 and var n)
            {
                train = train.Take(n);
            }

            var testSet = DatasetSource.Load(testSpec);
            var outPath = parse.GetValue(output)!;
            var svgPath = parse.GetValue(svg) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "budget-sweep.svg");
            using var scratch = ScratchDirectory.Create(parse.GetValue(work), "dq-sweep-");
            var workDirectory = scratch.Path;
            var shape = MlpShape.Parse($"{train.PixelsPerSample},{parse.GetValue(hidden)},{train.ClassCount}");
            var result = BudgetSweep.Run(
                new BudgetSweepOptions(train, testSet, budgetList, parse.GetValue(seeds), shape,
                    new TrainingOptions { Epochs = parse.GetValue(epochs), Schedule = LearningRateScheduleKind.Cosine }, workDirectory, parse.GetValue(importance),
                    parse.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)),
                line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
            var relativeSvg = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFullPath(svgPath));
            DatasetQuant.Core.IO.AtomicFile.WriteAllBytes(svgPath, Encoding.UTF8.GetBytes(BudgetSweepSvg.Render(result)));
            var block = BudgetSweepMarkdown.Format(result, relativeSvg);
            BudgetSweepMarkdown.WriteInto(outPath, block);
            Console.Write(block);
            return 0;
        }));
        return command;
    }
}
