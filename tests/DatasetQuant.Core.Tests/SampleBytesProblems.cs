using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Tests;

/// <summary>Seeded random allocation problems with per-sample byte costs, and the exact optimum to judge them by.</summary>
internal static class SampleBytesProblems
{
    private const int W = SampleQuantizer.WidthCount;

    /// <summary>
    /// Non-decreasing costs from 0, each sample on its own scale; a quarter of the steps cost nothing, so widths that
    /// share a size (and a first bit that costs nothing) are covered.
    /// </summary>
    public static long[] RandomCosts(Random rng, int n)
    {
        var costs = new long[n * W];
        for (var i = 0; i < n; i++)
        {
            var scale = rng.Next(1, 6);
            for (var b = 1; b < W; b++)
            {
                costs[(i * W) + b] = costs[(i * W) + b - 1] + (rng.Next(4) == 0 ? 0 : rng.Next(1, (3 * scale) + 1));
            }
        }

        return costs;
    }

    /// <summary>
    /// Distortion that mostly falls with the width but not convexly (and now and then rises), random weights and caps;
    /// labels i mod <paramref name="classes"/> when <paramref name="labelled"/>. Unless <paramref name="plain"/>, a
    /// fallback measure and a ranking drop cost are switched on at random, so every path of the allocator is taken.
    /// </summary>
    public static AllocationProblem RandomProblem(Random rng, int n, long budget, long[] costs, bool labelled, int classes = 3, bool plain = false)
    {
        var distortion = new double[n * W];
        var fallback = new double[n * W];
        var importance = new double[n];
        var maxBits = new byte[n];
        for (var i = 0; i < n; i++)
        {
            distortion[i * W] = 50 + (100 * rng.NextDouble());
            fallback[i * W] = 50 + (100 * rng.NextDouble());
            for (var b = 1; b < W; b++)
            {
                distortion[(i * W) + b] = distortion[(i * W) + b - 1] * (0.2 + (0.9 * rng.NextDouble()));
                fallback[(i * W) + b] = fallback[(i * W) + b - 1] * 0.5;
            }

            importance[i] = 3 * rng.NextDouble();
            maxBits[i] = (byte)(rng.Next(3) == 0 ? rng.Next(0, W) : SampleQuantizer.MaxBits);
        }

        return new AllocationProblem(n, 8, budget)
        {
            Distortion = distortion,
            FallbackDistortion = !plain && rng.Next(2) == 0 ? fallback : ReadOnlyMemory<double>.Empty,
            DropCostRanksSamples = !plain && rng.Next(2) == 0,
            Importance = importance,
            MaxBits = maxBits,
            Labels = labelled && !plain ? Enumerable.Range(0, n).Select(i => i % classes).ToArray() : ReadOnlyMemory<int>.Empty,
            Seed = rng.Next(),
            SampleBytes = costs,
        };
    }

    /// <summary>The same problem with another budget and, where given, other sizes.</summary>
    public static AllocationProblem Copy(AllocationProblem problem, long budget, int? pixels = null, int? record = null, long[]? table = null) =>
        new(problem.Count, pixels ?? problem.PixelsPerSample, budget)
        {
            Distortion = problem.Distortion,
            FallbackDistortion = problem.FallbackDistortion,
            Importance = problem.Importance,
            MaxBits = problem.MaxBits,
            Labels = problem.Labels,
            CoverageScore = problem.CoverageScore,
            DropCostRanksSamples = problem.DropCostRanksSamples,
            ChanceDropCost = problem.ChanceDropCost,
            Seed = problem.Seed,
            RecordBytes = record ?? problem.RecordBytes,
            SampleBytes = table ?? problem.SampleBytes,
        };

    public static double Weighted(AllocationProblem problem, ReadOnlySpan<byte> bits)
    {
        double total = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            total += problem.ImportanceOf(i) * problem.Distortion.Span[(i * W) + bits[i]];
        }

        return total;
    }

    /// <summary>
    /// The least Σ w·D over every allocation (any width up to each cap, not just hull vertices) whose bytes are at most
    /// B, for B = 0..<paramref name="maxBudget"/>: a knapsack over the budget, one sample at a time.
    /// </summary>
    public static double[] Optimum(AllocationProblem problem, long maxBudget)
    {
        var best = new double[maxBudget + 1];
        var next = new double[maxBudget + 1];
        for (var i = 0; i < problem.Count; i++)
        {
            var weight = problem.ImportanceOf(i);
            for (var budget = 0L; budget <= maxBudget; budget++)
            {
                next[budget] = double.PositiveInfinity;
                for (var b = 0; b <= problem.MaxBitsOf(i); b++)
                {
                    var cost = problem.BytesAt(i, b);
                    if (cost <= budget)
                    {
                        next[budget] = Math.Min(next[budget], best[budget - cost] + (weight * problem.Distortion.Span[(i * W) + b]));
                    }
                }
            }

            (best, next) = (next, best);
        }

        return best;
    }
}
