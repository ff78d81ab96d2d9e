namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The same width b for every sample, the largest whose Σ_i bytes fits the budget; what is left over lifts evenly
/// spaced samples to b + 1, as many as fit (with per-sample costs, the most evenly spaced ones whose steps fit, then any
/// further sample whose own step still fits, in index order). Below 1 bit per pixel, b is 0: evenly spaced samples get
/// 1 bit and the rest are dropped. Costs are counted at the uncapped widths, so a sample held below b by
/// <see cref="AllocationProblem.MaxBits"/> leaves its bytes unspent rather than moving them to another sample.
/// </summary>
public sealed class UniformAllocator : IBitAllocator
{
    public string Name => "uniform";

    public bool NeedsDistortion => false;

    public void Allocate(AllocationProblem problem, Span<byte> bits)
    {
        var n = problem.Count;
        if (n == 0)
        {
            return;
        }

        var width = 0;
        while (width < SampleQuantizer.MaxBits && Total(problem, width + 1) <= problem.BudgetBytes)
        {
            width++;
        }

        var lift = new bool[n];
        if (width < SampleQuantizer.MaxBits)
        {
            var left = problem.BudgetBytes - Total(problem, width);
            // The evenly spaced pattern's cost grows with its count when every step costs the same, so the bisection
            // then finds left / step exactly; with per-sample steps it finds a count that fits (the lower end always does).
            int fits = 0, fails = n + 1;
            while (fails - fits > 1)
            {
                var middle = fits + ((fails - fits) / 2);
                if (LiftCost(problem, width, middle) <= left)
                {
                    fits = middle;
                }
                else
                {
                    fails = middle;
                }
            }

            left -= LiftCost(problem, width, fits);
            for (var i = 0; i < n; i++)
            {
                lift[i] = Lifted(i, fits, n);
            }

            // What the pattern leaves (less than any step when every step costs the same) goes to the next samples
            // whose own step fits; one that does not is skipped.
            for (var i = 0; i < n; i++)
            {
                var step = problem.BytesAt(i, width + 1) - problem.BytesAt(i, width);
                if (!lift[i] && step <= left)
                {
                    lift[i] = true;
                    left -= step;
                }
            }
        }

        for (var i = 0; i < n; i++)
        {
            bits[i] = (byte)Math.Min(width + (lift[i] ? 1 : 0), problem.MaxBitsOf(i));
        }
    }

    private static long Total(AllocationProblem problem, int width)
    {
        long total = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            total += problem.BytesAt(i, width);
        }

        return total;
    }

    /// <summary>Sample i is lifted when the running share floor((i+1)·k/n) steps up: k samples, evenly spread.</summary>
    private static bool Lifted(int i, long k, int n) => (i + 1L) * k / n > (long)i * k / n;

    private static long LiftCost(AllocationProblem problem, int width, int k)
    {
        long cost = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            cost += Lifted(i, k, problem.Count) ? problem.BytesAt(i, width + 1) - problem.BytesAt(i, width) : 0;
        }

        return cost;
    }
}
