using System.Globalization;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Experiments;

/// <summary>What <see cref="SmallDataCheck"/> runs: the sets, and one sweep's settings for each.</summary>
public sealed record SmallDataCheckOptions(
    IReadOnlyList<SmallDataSet> Sets,
    IReadOnlyList<double> Budgets,
    int Seeds,
    int Hidden,
    TrainingOptions Training,
    string WorkDirectory,
    IReadOnlyList<string> Methods);

/// <summary>One set's sweep.</summary>
public sealed record SmallDataResult(SmallDataSet Set, BudgetSweepResult Sweep);

/// <summary>
/// The forced-drop check: on each small set, the budget sweep of <see cref="BudgetSweep"/> (full precision, then
/// adaptive with pixel MSE and with the model measure against uniform selection), so that adaptive can be compared with
/// uniform where the budget forces samples out and where the seeds' spread is a large part of the difference.
/// </summary>
public static class SmallDataCheck
{
    public static IReadOnlyList<SmallDataResult> Run(SmallDataCheckOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        log ??= _ => { };
        var results = new List<SmallDataResult>();
        foreach (var set in options.Sets)
        {
            log($"{set.Name} (subset {set.DataSeed}): {set.Train.Count} training samples of {set.Train.Height}x{set.Train.Width}, {set.Test.Count} test samples");
            var shape = MlpShape.Parse(string.Create(CultureInfo.InvariantCulture, $"{set.Train.PixelsPerSample},{options.Hidden},{set.Train.ClassCount}"));
            var sweep = BudgetSweep.Run(
                new BudgetSweepOptions(set.Train, set.Test, options.Budgets, options.Seeds, shape, options.Training,
                    Path.Combine(options.WorkDirectory, string.Create(CultureInfo.InvariantCulture, $"{set.Name}-{set.DataSeed}")), Methods: options.Methods),
                line => log($"{set.Name} (subset {set.DataSeed}): {line}"), cancellationToken);
            results.Add(new SmallDataResult(set, sweep));
        }

        return results;
    }

}
