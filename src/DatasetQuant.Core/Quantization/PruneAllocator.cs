namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The dataset-pruning baseline: a seeded random subset kept at full width, as many as the budget holds (each at its own
/// cost: one that does not fit is skipped and the next tried); the rest dropped.
/// </summary>
public sealed class PruneAllocator : IBitAllocator
{
    public string Name => "prune";

    public bool NeedsDistortion => false;

    public void Allocate(AllocationProblem problem, Span<byte> bits)
    {
        var n = problem.Count;
        var order = new int[n];
        for (var i = 0; i < n; i++)
        {
            order[i] = i;
        }

        new Random(problem.Seed).Shuffle(order);
        bits.Clear();
        long used = 0;
        foreach (var i in order)
        {
            var width = problem.MaxBitsOf(i);
            var cost = problem.BytesAt(i, width);
            if (used + cost <= problem.BudgetBytes)
            {
                bits[i] = (byte)width;
                used += cost;
            }
        }
    }
}
