namespace DatasetQuant.Coordinator.Planning;

/// <summary>
/// How the fleet's flash is shared out. A device's budget is <see cref="FractionOfAvailable"/> of what it could give
/// the datasets (free flash plus the bytes it already holds for them), clamped to [<see cref="MinBytes"/>, the cap],
/// never above what it has, and rounded down to <see cref="GranularityBytes"/>.
/// </summary>
public sealed record BudgetPolicy
{
    public double FractionOfAvailable { get; init; } = 0.5;

    public long MinBytes { get; init; } = 1L << 20;

    public long MaxBytes { get; init; } = 1L << 30;

    /// <summary>Caps per board name (as devices report it, compared case-insensitively); tighter than <see cref="MaxBytes"/> wins.</summary>
    public IReadOnlyDictionary<string, long> BoardCaps { get; init; } = new Dictionary<string, long>(StringComparer.OrdinalIgnoreCase);

    /// <summary>Budgets are multiples of this, so a few kilobytes of log churn on a device do not move its budget.</summary>
    public long GranularityBytes { get; init; } = 64 * 1024;

    /// <summary>
    /// A budget already desired is kept while the new figure is within this fraction of it: every change is a
    /// re-quantization or a download on the device, not worth it for a few percent.
    /// </summary>
    public double Hysteresis { get; init; } = 0.05;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first setting that makes no sense.</summary>
    public void Validate()
    {
        if (!(FractionOfAvailable > 0 && FractionOfAvailable <= 1))
        {
            throw new ArgumentException($"budget fraction must be in (0, 1], got {FractionOfAvailable}.");
        }

        if (MinBytes < 0)
        {
            throw new ArgumentException($"minimum budget must not be negative, got {MinBytes}.");
        }

        if (MaxBytes < MinBytes)
        {
            throw new ArgumentException($"maximum budget ({MaxBytes}) is below the minimum ({MinBytes}).");
        }

        if (GranularityBytes <= 0)
        {
            throw new ArgumentException($"budget granularity must be positive, got {GranularityBytes}.");
        }

        if (!(Hysteresis >= 0 && Hysteresis < 1))
        {
            throw new ArgumentException($"budget hysteresis must be in [0, 1), got {Hysteresis}.");
        }

        foreach (var (board, cap) in BoardCaps)
        {
            if (cap < 0)
            {
                throw new ArgumentException($"cap for board '{board}' must not be negative, got {cap}.");
            }
        }
    }

    public long CapFor(string? board) =>
        board is not null && BoardCaps.TryGetValue(board, out var cap) ? Math.Min(cap, MaxBytes) : MaxBytes;
}
