using System.CommandLine;
using System.Globalization;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Training.Experiments;
using DatasetQuant.Training.Optimization;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq experiment small-data</c>: adaptive against uniform selection on small sets made from Fashion-MNIST, or on a
/// set of the user's own split per data seed, where the budget forces samples out of about 1,300 (docs/results.md, "Forced drops on small data").
/// </summary>
internal static class SmallDataCommand
{
    public static Command Create()
    {
        var sets = new Option<string>("--sets") { Description = $"Small sets to build and run ({string.Join(", ", SmallDataSets.Names)})", DefaultValueFactory = _ => string.Join(',', SmallDataSets.Names) };
        var trainCount = new Option<int>("--train-samples") { Description = "Training samples per set", DefaultValueFactory = _ => 1297 };
        var dataSeeds = new Option<string>("--data-seeds") { Description = "Seeds of the training subsets drawn per set", DefaultValueFactory = _ => "1,2,3" };
        var budgets = new Option<string>("--budgets") { Description = "Budgets in bits per pixel", DefaultValueFactory = _ => "0.5,1,2" };
        var seeds = new Option<int>("--seeds") { Description = "Training seeds per cell", DefaultValueFactory = _ => 3 };
        var epochs = new Option<int>("--epochs") { Description = "Epochs of every training run", DefaultValueFactory = _ => 40 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of the MLP", DefaultValueFactory = _ => 256 };
        var methods = new Option<string>("--methods") { Description = $"Methods per budget ({string.Join(", ", BudgetSweepResult.Methods)})", DefaultValueFactory = _ => "adaptive-pixel,adaptive-model,uniform" };
        var heldOut = new Option<bool>("--held-out-reference") { Description = "Train the model-importance reference on another subset of each set (a held-out loss as drop cost) instead of the first full-precision model" };
        var output = new Option<string?>("--out") { Description = "Markdown file the tables go into (its small-data block is replaced); default: print only" };
        var input = new Option<string?>("--input") { Description = $"A set of your own instead of --sets ({DatasetSource.Grammar}): each data seed splits it into --train-samples for training and the rest for testing" };
        var work = new Option<string?>("--work") { Description = "Folder for shards and models (default: a temp folder, deleted afterwards)" };
        var command = new Command("small-data", "Adaptive (pixel MSE, model importance) against uniform selection on ~1,300-sample sets made from Fashion-MNIST (8x8, 8x8 counts, 14x14, imbalanced 8x8) or split from a set of your own (--input), trained and tested.")
        {
            sets, input, trainCount, dataSeeds, budgets, seeds, epochs, hidden, methods, heldOut, output, work,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var budgetList = parse.GetValue(budgets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(b => double.TryParse(b.Replace("bpp", string.Empty, StringComparison.OrdinalIgnoreCase), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
                    ? v : throw new FormatException($"--budgets: '{b}' is not a number of bits per pixel."))
                .ToArray();
            var methodList = parse.GetValue(methods)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var names = parse.GetValue(sets)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            if (parse.GetValue(input) is not null && parse.GetValue(heldOut))
            {
                throw new ArgumentException("--held-out-reference needs a second subset that shares no sample with the first; a set given by --input is only split into training and test parts.");
            }

            var subsetSeeds = parse.GetValue(dataSeeds)!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
                .Select(s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw new FormatException($"--data-seeds: '{s}' is not an integer."))
                .ToArray();
            var built = parse.GetValue(input) is { } own
                ? SplitsOf(DatasetSource.Load(own), parse.GetValue(trainCount), subsetSeeds)
                : FashionMnistSets(names, parse.GetValue(trainCount), subsetSeeds, parse.GetValue(heldOut));
            using var scratch = ScratchDirectory.Create(parse.GetValue(work), "dq-small-");
            var workDirectory = scratch.Path;
            var results = SmallDataCheck.Run(
                new SmallDataCheckOptions(built, budgetList, parse.GetValue(seeds), parse.GetValue(hidden),
                    new TrainingOptions { Epochs = parse.GetValue(epochs), Schedule = LearningRateScheduleKind.Cosine }, workDirectory, methodList),
                line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
            var block = SmallDataMarkdown.Format(results, "dq experiment small-data " + string.Join(' ', Environment.GetCommandLineArgs().Skip(3)));
            if (parse.GetValue(output) is { } outPath)
            {
                BudgetSweepMarkdown.WriteInto(outPath, block, SmallDataMarkdown.BeginMarker, SmallDataMarkdown.EndMarker);
            }

            Console.Write(block);
            return 0;
        }));
        return command;
    }

    private static SmallDataSet[] FashionMnistSets(string[] names, int trainCount, int[] subsetSeeds, bool heldOut)
    {
        var train = DatasetSource.Load("fashion-mnist:train");
        var test = DatasetSource.Load("fashion-mnist:test");
        return names.SelectMany(n => subsetSeeds.Select(seed => SmallDataSets.Create(n, train, test, trainCount, seed)
                with { Reference = heldOut ? SmallDataSets.Create(n, train, test, trainCount, seed + 1000).Train : null }))
            .ToArray();
    }

    private static SmallDataSet[] SplitsOf(ImageDataset whole, int trainCount, int[] subsetSeeds) =>
        subsetSeeds.Select(seed => SmallDataSets.Split(whole, trainCount, seed)).ToArray();
}
