namespace DatasetQuant.Training.Experiments;

/// <summary>The accuracies of one method at one budget, one per seed.</summary>
public sealed record SweepCell(string Method, double BudgetBitsPerPixel, long PayloadBytes, double BitsPerPixel, IReadOnlyList<double> Accuracies)
{
    /// <summary>How many samples got each width 0..8 (empty for the full-precision cell).</summary>
    public IReadOnlyList<int> Widths { get; init; } = [];

    public double Mean => Accuracies.Count == 0 ? double.NaN : Accuracies.Average();

    /// <summary>Sample standard deviation over seeds (0 for one seed).</summary>
    public double StandardDeviation
    {
        get
        {
            if (Accuracies.Count < 2)
            {
                return 0;
            }

            var mean = Mean;
            return Math.Sqrt(Accuracies.Sum(a => (a - mean) * (a - mean)) / (Accuracies.Count - 1));
        }
    }
}

/// <summary>Every cell of a sweep plus how it was run.</summary>
public sealed record BudgetSweepResult(
    SweepCell FullPrecision,
    IReadOnlyList<SweepCell> Cells,
    IReadOnlyList<double> Budgets,
    int Seeds,
    int Epochs,
    string Model,
    int TrainSamples,
    int TestSamples,
    TimeSpan Elapsed)
{
    public static IReadOnlyList<string> Methods { get; } = ["adaptive-pixel", "adaptive-model", "uniform", "prune"];

    public static string Title(string method) => method switch
    {
        "adaptive-pixel" => "adaptive (pixel MSE)",
        "adaptive-model" => "adaptive (model KL)",
        "uniform" => "uniform",
        "prune" => "random pruning",
        _ => method,
    };

    public SweepCell? Cell(string method, double budget) =>
        Cells.FirstOrDefault(c => c.Method == method && Math.Abs(c.BudgetBitsPerPixel - budget) < 1e-9);
}
