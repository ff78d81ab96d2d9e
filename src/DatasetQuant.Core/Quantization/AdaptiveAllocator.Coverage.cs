namespace DatasetQuant.Core.Quantization;

/// <summary>The allocator's class coverage: which samples a forced or untrusted drop removes.</summary>
public sealed partial class AdaptiveAllocator
{
    /// <summary>With labels: where the budget forces drops, or the optimum's own drops are not trusted, coverage chooses them.</summary>
    private static void ChooseDrops(AllocationProblem problem, Span<byte> bits)
    {
        var n = problem.Count;
        var keep = 0;
        for (var i = 0; i < n; i++)
        {
            keep += bits[i] > 0 ? 1 : 0;
        }

        var affordable = AffordableAtOneBit(problem);
        var forced = affordable < n;
        if (keep == n || (!forced && (keep == 0 || problem.DropCostTrusted)))
        {
            return;
        }

        var score = new double[n];
        for (var i = 0; i < n; i++)
        {
            score[i] = problem.CoverageScore.IsEmpty ? problem.FirstBitGain(i) : problem.CoverageScore.Span[i];
        }

        var dropPrices = problem.DropPrices();

        // Forced drops keep every sample the budget affords. An optional drop (its drop cost not trusted to rank samples)
        // keeps the optimum's count, which assumed its cheapest samples would go; under coverage they are not the ones
        // dropped, so keeping every sample at 1 bit can cost less. Both counts are tried; the lower Σ w·D wins.
        int[] counts = forced ? [affordable] : [keep, affordable];
        var candidate = new byte[n];
        var best = double.PositiveInfinity;
        foreach (var count in counts)
        {
            SelectAndGrow(problem, score, dropPrices, count, candidate);
            var total = WeightedDistortion(problem, candidate);
            if (total < best)
            {
                best = total;
                candidate.CopyTo(bits);
            }
        }
    }

    /// <summary>
    /// How many samples the budget holds at 1 bit, cheapest first: an upper bound on what coverage can keep. With one
    /// cost c for every sample it is min(N, budget / c), as it was before costs could differ per sample.
    /// </summary>
    private static int AffordableAtOneBit(AllocationProblem problem)
    {
        var costs = new long[problem.Count];
        for (var i = 0; i < costs.Length; i++)
        {
            costs[i] = problem.BytesAt(i, 1);
        }

        Array.Sort(costs);
        long used = 0;
        for (var k = 0; k < costs.Length; k++)
        {
            used += costs[k];
            if (used > problem.BudgetBytes)
            {
                return k;
            }
        }

        return costs.Length;
    }

    /// <summary>
    /// Keeps <paramref name="keep"/> samples at 1 bit, chosen by coverage, or fewer where their own 1-bit costs do not
    /// fit, then grows the kept ones with what is left.
    /// </summary>
    private static void SelectAndGrow(AllocationProblem problem, double[] score, double[] dropPrices, int keep, Span<byte> bits)
    {
        var kept = new bool[problem.Count];
        // With one cost for all, `keep` samples fit: the optimum's own count, or as many as the budget affords. With
        // per-sample costs coverage picks dearer samples than the cheapest `keep` it was counted by, so the largest count
        // whose choice fits is found by bisection (the choices are not nested, so the invariant is only that the lower
        // end fits; keeping none always does).
        if (!SelectFits(problem, score, dropPrices, keep, kept))
        {
            int fits = 0, fails = keep;
            while (fails - fits > 1)
            {
                var middle = fits + ((fails - fits) / 2);
                if (SelectFits(problem, score, dropPrices, middle, kept))
                {
                    fits = middle;
                }
                else
                {
                    fails = middle;
                }
            }

            SelectFits(problem, score, dropPrices, fits, kept);
        }

        long used = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            bits[i] = (byte)(kept[i] && problem.MaxBitsOf(i) > 0 ? 1 : 0);
            used += problem.BytesAt(i, bits[i]);
        }

        Grow(problem, bits, used, fromDropped: false);
    }

    /// <summary>Coverage's choice of <paramref name="keep"/> samples into <paramref name="kept"/>; whether they fit the budget at 1 bit.</summary>
    private static bool SelectFits(AllocationProblem problem, double[] score, double[] dropPrices, int keep, bool[] kept)
    {
        CoverageSelection.Select(problem.Labels.Span, score, keep, kept, dropPrices);
        long used = 0;
        for (var i = 0; i < kept.Length; i++)
        {
            used += kept[i] && problem.MaxBitsOf(i) > 0 ? problem.BytesAt(i, 1) : 0;
        }

        return used <= problem.BudgetBytes;
    }

    private static double WeightedDistortion(AllocationProblem problem, ReadOnlySpan<byte> bits)
    {
        var distortion = problem.Distortion.Span;
        double total = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            total += problem.ImportanceOf(i) * distortion[i * SampleQuantizer.WidthCount + bits[i]];
        }

        return total;
    }
}
