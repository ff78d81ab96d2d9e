using DatasetQuant.Core.Quantization;
using static DatasetQuant.Core.Tests.SampleBytesProblems;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Allocation where each sample has its own byte cost per width (<see cref="AllocationProblem.SampleBytes"/>), as a
/// range-coded bit plane's size depends on what its pixels compress to. Small seeded random problems, so an exact
/// optimum can be found by dynamic programming over the budget.
/// </summary>
public sealed class SampleBytesAllocationTests
{
    private const int W = SampleQuantizer.WidthCount;

    [Fact]
    public void No_allocator_spends_more_than_the_budget()
    {
        for (var seed = 0; seed < 60; seed++)
        {
            var rng = new Random(seed);
            var n = rng.Next(1, 40);
            var costs = RandomCosts(rng, n);
            var full = Enumerable.Range(0, n).Sum(i => costs[(i * W) + 8]);
            var budget = rng.NextInt64(0, full + 2);
            var problem = RandomProblem(rng, n, budget, costs, labelled: seed % 2 == 0);
            foreach (var allocator in new IBitAllocator[] { new AdaptiveAllocator(), new UniformAllocator(), new PruneAllocator() })
            {
                var bits = new byte[n];
                allocator.Allocate(problem, bits);
                Assert.True(problem.TotalBytes(bits) <= budget, $"seed {seed}: {allocator.Name} spent {problem.TotalBytes(bits)} of {budget}");
                Assert.All(Enumerable.Range(0, n), i => Assert.InRange(bits[i], 0, problem.MaxBitsOf(i)));
            }

            // A fleet's prefix of the increment order, each increment charged its own sample's step.
            var widths = new byte[n];
            AdaptiveAllocator.Order(problem).WidthsWithin(budget, problem.BytesAt, widths);
            Assert.True(problem.TotalBytes(widths) <= budget, $"seed {seed}: the order's prefix spent {problem.TotalBytes(widths)} of {budget}");
        }
    }

    [Fact]
    public void Adaptive_is_optimal_at_every_breakpoint_of_its_order_and_between_them_no_worse_than_the_last()
    {
        for (var seed = 0; seed < 40; seed++)
        {
            var rng = new Random(1000 + seed);
            var n = rng.Next(1, 7);
            var costs = RandomCosts(rng, n);
            var template = RandomProblem(rng, n, 0, costs, labelled: false, plain: true);
            var full = Enumerable.Range(0, n).Sum(i => costs[(i * W) + template.MaxBitsOf(i)]);
            var optimum = Optimum(template, full + 3);

            // Every prefix of the greedy's order is a Lagrangian optimum, so at its cost nothing does better.
            var widths = new byte[n];
            var breakpoints = new SortedDictionary<long, double> { [0] = Weighted(template, widths) };
            foreach (var (sample, width) in AdaptiveAllocator.Order(template).Increments)
            {
                widths[sample] = width;
                breakpoints[template.TotalBytes(widths)] = Weighted(template, widths);
            }

            for (var budget = 0L; budget <= full + 3; budget++)
            {
                var bits = new byte[n];
                var problem = Copy(template, budget);
                new AdaptiveAllocator().Allocate(problem, bits);
                var value = Weighted(problem, bits);
                var tolerance = 1e-9 * Math.Max(1, Math.Abs(optimum[budget]));
                var below = breakpoints.Last(p => p.Key <= budget);
                Assert.True(value >= optimum[budget] - tolerance, $"seed {seed}, budget {budget}: {value} below the optimum {optimum[budget]}");
                Assert.True(value <= below.Value + tolerance, $"seed {seed}, budget {budget}: {value} worse than the prefix at {below.Key} bytes ({below.Value})");
                if (breakpoints.ContainsKey(budget))
                {
                    Assert.True(value <= optimum[budget] + tolerance, $"seed {seed}, breakpoint {budget}: {value} against the optimum {optimum[budget]}");
                }
            }
        }
    }

    [Fact]
    public void A_table_of_the_packed_sizes_allocates_as_the_formula_does()
    {
        for (var seed = 0; seed < 30; seed++)
        {
            var rng = new Random(2000 + seed);
            var n = rng.Next(1, 80);
            var pixels = new[] { 1, 3, 5, 8, 13, 64 }[rng.Next(6)];
            var record = rng.Next(0, 6);
            var table = SampleByteTable.Packed(n, pixels, record);
            var budget = rng.NextInt64(0, (long)n * table[8] + 2);
            var formula = Copy(RandomProblem(rng, n, budget, [], labelled: seed % 3 != 0), budget, pixels, record, []);
            // RecordBytes is ignored once the table is set: a different value must not change anything.
            var tabled = Copy(formula, budget, pixels, record + 7, table);
            foreach (var allocator in new IBitAllocator[] { new AdaptiveAllocator(), new UniformAllocator(), new PruneAllocator() })
            {
                byte[] a = new byte[n], b = new byte[n];
                allocator.Allocate(formula, a);
                allocator.Allocate(tabled, b);
                Assert.True(a.AsSpan().SequenceEqual(b), $"seed {seed}: {allocator.Name} differs with the table");
                Assert.Equal(formula.TotalBytes(a), tabled.TotalBytes(b));
            }

            Assert.Equal(AdaptiveAllocator.Order(formula).Increments, AdaptiveAllocator.Order(tabled).Increments);
            if (!formula.Labels.IsEmpty)
            {
                var score = Enumerable.Range(0, n).Select(i => (double)((i * 7) % 11)).ToArray();
                Assert.Equal(CoverageOrder.Build(formula, formula.Labels.Span, score).Increments,
                    CoverageOrder.Build(tabled, tabled.Labels.Span, score).Increments);
            }
        }
    }

    [Fact]
    public void Coverage_keeps_every_class_when_per_sample_costs_force_drops()
    {
        for (var seed = 0; seed < 20; seed++)
        {
            var rng = new Random(3000 + seed);
            const int n = 200, classes = 5;
            var costs = new long[n * W];
            for (var i = 0; i < n; i++)
            {
                // 1-bit costs 1..40: the cheapest samples are not the ones coverage picks.
                var step = rng.Next(1, 41);
                for (var b = 1; b < W; b++)
                {
                    costs[(i * W) + b] = costs[(i * W) + b - 1] + step + rng.Next(0, 4);
                }
            }

            var atOneBit = Enumerable.Range(0, n).Sum(i => costs[(i * W) + 1]);
            var budget = (long)(atOneBit * (0.15 + (0.4 * rng.NextDouble())));
            var problem = RandomProblem(rng, n, budget, costs, labelled: true, classes);
            var bits = new byte[n];
            new AdaptiveAllocator().Allocate(problem, bits);

            Assert.True(problem.TotalBytes(bits) <= budget, $"seed {seed}: {problem.TotalBytes(bits)} bytes of {budget}");
            Assert.Contains(bits, b => b == 0);
            for (var c = 0; c < classes; c++)
            {
                Assert.True(Enumerable.Range(0, n).Any(i => problem.Labels.Span[i] == c && bits[i] > 0), $"seed {seed}: class {c} lost every sample");
            }
        }
    }

    [Fact]
    public void Uniform_lifts_the_evenly_spaced_samples_whose_steps_fit_then_the_next_that_do()
    {
        // Sample i costs (i + 1) bytes a bit: 10 bytes a width for all four. 25 bytes hold 2 bits each (20); of the 5
        // left, two evenly spaced lifts (samples 1 and 3: 2 + 4) do not fit, one (sample 3: 4) does, and sample 0's 1 byte
        // step takes the last byte.
        var costs = new long[4 * W];
        for (var i = 0; i < 4; i++)
        {
            for (var b = 0; b < W; b++)
            {
                costs[(i * W) + b] = b * (i + 1L);
            }
        }

        var problem = new AllocationProblem(4, 8, 25) { SampleBytes = costs };
        var bits = new byte[4];
        new UniformAllocator().Allocate(problem, bits);

        Assert.Equal(new byte[] { 3, 2, 2, 3 }, bits);
        Assert.Equal(25, problem.TotalBytes(bits));
    }

    [Theory]
    [InlineData(1, 0, 3, "sample 1 costs 3 bytes at width 0")]
    [InlineData(2, 5, -1, "sample 2 costs")]
    [InlineData(0, 8, -1, "at width 8")]
    public void A_bad_table_is_refused_naming_the_sample_and_width(int sample, int width, long value, string expected)
    {
        var costs = new long[3 * W];
        for (var i = 0; i < 3; i++)
        {
            for (var b = 0; b < W; b++)
            {
                costs[(i * W) + b] = 10L * b;
            }
        }

        // -1 marks a cost below the width before it.
        costs[(sample * W) + width] = value >= 0 ? value : costs[(sample * W) + width - 1] - 1;
        var error = Assert.Throws<ArgumentException>(() => new AllocationProblem(3, 8, 100) { SampleBytes = costs });

        Assert.Contains(expected, error.Message);
        Assert.Contains($"width {width}", error.Message);
        Assert.Contains($"sample {sample}", error.Message);
    }

    [Fact]
    public void A_table_of_the_wrong_length_is_refused()
    {
        var error = Assert.Throws<ArgumentException>(() => new AllocationProblem(3, 8, 100) { SampleBytes = new long[(3 * W) - 1] });

        Assert.Contains("27 for 3 samples", error.Message);
    }
}
