using System.CommandLine;
using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Onnx.Generators;
using DatasetQuant.Training.Experiments;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Optimization;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq experiment generator-frontier</c>: accuracy against flash bytes for shards alone, the generator alone and
/// both; writes the table, the SVG and, with <c>--write-mixing</c>, the mixing rule into the generator's manifest.
/// </summary>
internal static class GeneratorFrontierCommand
{
    public static Command Create()
    {
        var generator = new Option<string>("--generator") { Description = "The generator (G.onnx with G.json beside it)", Required = true };
        var input = new Option<string>("--input") { Description = "Training set the shards are made from", DefaultValueFactory = _ => "fashion-mnist" };
        var test = new Option<string>("--test") { Description = "Real test set", DefaultValueFactory = _ => "fashion-mnist:test" };
        var bytes = new Option<string>("--bytes") { Description = "Flash budgets", DefaultValueFactory = _ => "256KiB,512KiB,1MiB,2MiB,4MiB,8MiB,16MiB" };
        var ratios = new Option<string>("--ratios") { Description = "Synthetic shares tried when mixing", DefaultValueFactory = _ => "0.25,0.5,0.75" };
        var seeds = new Option<int>("--seeds") { Description = "Training seeds per cell", DefaultValueFactory = _ => 1 };
        var presentations = new Option<long>("--presentations") { Description = "Samples every run sees (5 passes of 60,000 by default)", DefaultValueFactory = _ => 300_000 };
        var samples = new Option<int>("--generator-samples") { Description = "Generated samples a pass when the generator trains alone", DefaultValueFactory = _ => 60_000 };
        var hidden = new Option<string>("--hidden") { DefaultValueFactory = _ => "256" };
        var output = new Option<string>("--out") { Description = "Markdown file for the table", Required = true };
        var svg = new Option<string?>("--svg") { Description = "SVG plot (default: generator-frontier.svg beside --out)" };
        var writeMixing = new Option<bool>("--write-mixing") { Description = "Write the measured mixing rule into the generator's manifest" };
        var work = new Option<string?>("--work") { Description = "Folder for shards and models (default: a temp folder, deleted afterwards)" };
        var command = new Command("generator-frontier", "Shards alone, the generator alone and both at equal flash bytes, trained and tested on real images.")
        {
            generator, input, test, bytes, ratios, seeds, presentations, samples, hidden, output, svg, writeMixing, work,
        };
        command.SetAction(parse => TrainingCommandErrors.Run(() =>
        {
            var generatorPath = parse.GetValue(generator)!;
            var manifestPath = GeneratorManifest.PathFor(generatorPath);
            var manifest = GeneratorManifest.Load(manifestPath);
            var budgets = List(parse.GetValue(bytes)!, "--bytes", t => Budget.Parse(t) is { IsBitsPerPixel: false } b ? b.Bytes : throw new FormatException($"--bytes: '{t}' is not a size."));
            var ratioList = List(parse.GetValue(ratios)!, "--ratios", t => double.Parse(t, NumberStyles.Float, CultureInfo.InvariantCulture));
            var train = DatasetSource.Load(parse.GetValue(input)!);
            var testSet = DatasetSource.Load(parse.GetValue(test)!);
            var outPath = parse.GetValue(output)!;
            var svgPath = parse.GetValue(svg) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(outPath))!, "generator-frontier.svg");
            using var scratch = ScratchDirectory.Create(parse.GetValue(work), "dq-frontier-");
            var workDirectory = scratch.Path;
            var result = GeneratorFrontier.Run(
                new GeneratorFrontierOptions(train, testSet, generatorPath, budgets, ratioList, parse.GetValue(seeds),
                    MlpShape.Parse($"{train.PixelsPerSample},{parse.GetValue(hidden)},{train.ClassCount}"),
                    new TrainingOptions { Schedule = LearningRateScheduleKind.Cosine }, parse.GetValue(presentations), parse.GetValue(samples), workDirectory),
                line => Console.WriteLine($"[{DateTime.UtcNow:HH:mm:ss}] {line}"));
            var table = GeneratorFrontierReport.Markdown(result);
            AtomicFile.WriteAllBytes(outPath, Encoding.UTF8.GetBytes(table));
            AtomicFile.WriteAllBytes(svgPath, Encoding.UTF8.GetBytes(GeneratorFrontierReport.Svg(result)));
            Console.Write(table);
            if (parse.GetValue(writeMixing))
            {
                manifest.Mixing = [.. result.MixingRule()];
                manifest.Save(manifestPath);
                Console.WriteLine($"mixing rule written into {manifestPath}");
            }

            return 0;
        }));
        return command;
    }

    private static T[] List<T>(string text, string option, Func<string, T> parse)
    {
        var items = text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        return items.Length == 0 ? throw new FormatException($"{option}: the list is empty.") : [.. items.Select(parse)];
    }
}
