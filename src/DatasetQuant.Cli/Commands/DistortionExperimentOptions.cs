using System.CommandLine;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Training.Experiments;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// The options of the distortion-only experiments (embedded-codes): a dataset, optionally cut to its
/// first N samples and area-downsampled, and the budgets in bits per pixel.
/// </summary>
internal sealed class DistortionExperimentOptions
{
    private readonly Option<string> _input = new("--input") { Description = $"Dataset: {DatasetSource.Grammar}", DefaultValueFactory = _ => "fashion-mnist:test" };
    private readonly Option<string> _budgets = new("--budgets") { Description = "Budgets in bits per pixel", DefaultValueFactory = _ => "0.25,0.5,1,2,4" };
    private readonly Option<int> _side = new("--side") { Description = "Area-downsample every image to SIDE×SIDE first (0: as it is)", DefaultValueFactory = _ => 0 };
    private readonly Option<int> _limit = new("--limit") { Description = "Use only the first N samples (0: all)", DefaultValueFactory = _ => 0 };

    public void AddTo(Command command)
    {
        command.Options.Add(_input);
        command.Options.Add(_budgets);
        command.Options.Add(_side);
        command.Options.Add(_limit);
    }

    public ImageDataset Dataset(ParseResult parse)
    {
        var dataset = DatasetSource.Load(parse.GetValue(_input)!);
        var count = parse.GetValue(_limit) is > 0 and var n ? n : dataset.Count;
        return parse.GetValue(_side) is > 0 and var s ? EmbeddedCodeExperiment.Downsample(dataset, s, count) : dataset.Take(count);
    }

    public double[] Budgets(ParseResult parse) => ExperimentCommand.ParseBudgets(parse.GetValue(_budgets)!);
}
