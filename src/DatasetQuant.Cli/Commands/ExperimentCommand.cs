using System.CommandLine;
using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
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
        command.Subcommands.Add(GeneratorFrontierCommand.Create());
        return command;
    }

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
        var command = new Command("budget-sweep", "Full precision, adaptive (pixel and model importance), uniform and random pruning at the same bytes, trained and tested.")
        {
            input, test, budgets, seeds, epochs, hidden, limit, importance, output, svg, work,
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
            var workDirectory = parse.GetValue(work);
            var ownWork = workDirectory is null;
            workDirectory ??= Directory.CreateTempSubdirectory("dq-sweep-").FullName;
            var shape = MlpShape.Parse($"{train.PixelsPerSample},{parse.GetValue(hidden)},{train.ClassCount}");
            try
            {
                var result = BudgetSweep.Run(
                    new BudgetSweepOptions(train, testSet, budgetList, parse.GetValue(seeds), shape,
                        new TrainingOptions { Epochs = parse.GetValue(epochs), Schedule = LearningRateScheduleKind.Cosine }, workDirectory, parse.GetValue(importance)),
                    line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
                var relativeSvg = Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(outPath))!, Path.GetFullPath(svgPath));
                DatasetQuant.Core.IO.AtomicFile.WriteAllBytes(svgPath, Encoding.UTF8.GetBytes(BudgetSweepSvg.Render(result)));
                var block = BudgetSweepMarkdown.Format(result, relativeSvg);
                BudgetSweepMarkdown.WriteInto(outPath, block);
                Console.Write(block);
                return 0;
            }
            finally
            {
                if (ownWork)
                {
                    Directory.Delete(workDirectory, recursive: true);
                }
            }
        }));
        return command;
    }
}
