using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class AllocatorTests
{
    private static readonly Lazy<(DistortionTable Table, int Count)> Measured = new(() =>
    {
        var dataset = Samples.FashionMnistTest.Take(2000);
        var statistics = ChannelStatistics.Compute(dataset);
        return (DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default), dataset.Count);
    });

    [Theory]
    [InlineData(0.5)]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    [InlineData(2.7)]
    public void Adaptive_beats_uniform_and_prune_on_real_data(double bpp)
    {
        var (table, n) = Measured.Value;
        var budget = Budget.FromBitsPerPixel(bpp).PayloadBytes(n, 784);

        var adaptive = Allocate(new AdaptiveAllocator(), table, n, budget);
        var uniform = Allocate(new UniformAllocator(), table, n, budget);
        var prune = Allocate(new PruneAllocator(), table, n, budget);

        Assert.True(table.MeanSquaredError(adaptive) < table.MeanSquaredError(uniform),
            $"{bpp} bpp: adaptive MSE {table.MeanSquaredError(adaptive)} >= uniform {table.MeanSquaredError(uniform)}");
        Assert.True(table.MeanSquaredError(adaptive) < table.MeanSquaredError(prune));
    }

    [Fact]
    public void Importance_moves_bits_to_the_samples_that_matter()
    {
        var (table, n) = Measured.Value;
        var budget = Budget.FromBitsPerPixel(2).PayloadBytes(n, 784);
        var importance = new double[n];
        for (var i = 0; i < n; i++)
        {
            importance[i] = i < n / 2 ? 10.0 : 0.1;
        }

        var bits = new byte[n];
        new AdaptiveAllocator().Allocate(new AllocationProblem(n, 784, budget) { Distortion = table.Distortion, Importance = importance }, bits);

        var important = bits.Take(n / 2).Average(b => (double)b);
        var rest = bits.Skip(n / 2).Average(b => (double)b);
        Assert.True(important > rest + 1, $"important half averages {important} bits, the rest {rest}");
    }

    [Fact]
    public void Uniform_spreads_the_remainder_evenly()
    {
        var bits = new byte[10];
        // 10 samples of 8 pixels: 2 bits each is 20 bytes; 25 bytes lifts 5 samples to 3 bits, every other one.
        new UniformAllocator().Allocate(new AllocationProblem(10, 8, 25), bits);

        Assert.Equal(new byte[] { 2, 3, 2, 3, 2, 3, 2, 3, 2, 3 }, bits);
    }

    [Fact]
    public void Prune_keeps_a_seeded_subset_at_eight_bits()
    {
        var a = new byte[100];
        var b = new byte[100];
        var c = new byte[100];
        new PruneAllocator().Allocate(new AllocationProblem(100, 8, 30 * 8) { Seed = 1 }, a);
        new PruneAllocator().Allocate(new AllocationProblem(100, 8, 30 * 8) { Seed = 1 }, b);
        new PruneAllocator().Allocate(new AllocationProblem(100, 8, 30 * 8) { Seed = 2 }, c);

        Assert.Equal(30, a.Count(x => x == 8));
        Assert.Equal(70, a.Count(x => x == 0));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
    }

    [Fact]
    public void What_a_measure_that_stops_gaining_leaves_of_the_budget_goes_to_the_fallbacks_gains()
    {
        var (table, n) = Measured.Value;
        // A measure sure of every sample once it has a bit (a confident reference model's KL): nothing to gain above 1 bit.
        var saturated = new double[n * SampleQuantizer.WidthCount];
        for (var i = 0; i < n; i++)
        {
            saturated[i * SampleQuantizer.WidthCount] = 1 + (i % 7);
        }

        var budget = Budget.FromBitsPerPixel(2).PayloadBytes(n, 784);
        AllocationProblem Problem(bool fallback) => new(n, 784, budget)
        {
            Distortion = saturated,
            FallbackDistortion = fallback ? table.PixelMse : ReadOnlyMemory<double>.Empty,
        };

        var alone = new byte[n];
        new AdaptiveAllocator().Allocate(Problem(fallback: false), alone);
        Assert.All(alone, b => Assert.Equal(1, b));
        Assert.Equal(budget / 2, Problem(false).TotalBytes(alone));

        // The rest of the budget goes where the pixel MSE falls most, as an allocation by pixel MSE from 1 bit would spend it.
        var spent = new byte[n];
        var problem = Problem(fallback: true);
        new AdaptiveAllocator().Allocate(problem, spent);
        Assert.All(spent, b => Assert.InRange(b, 1, 8));
        Assert.InRange(problem.TotalBytes(spent), budget - (784 * 8 / 8), budget);
        Assert.True(table.MeanSquaredError(spent) < 0.5 * table.MeanSquaredError(alone), $"{table.MeanSquaredError(spent):F1} against {table.MeanSquaredError(alone):F1}");

        // The increment order carries the same tail: its longest prefix within the budget is about that allocation.
        var order = AdaptiveAllocator.Order(problem);
        var widths = new byte[n];
        long bytes = 0;
        foreach (var increment in order.Increments)
        {
            var added = problem.BytesAt(increment.Sample, increment.Width) - problem.BytesAt(increment.Sample, widths[increment.Sample]);
            if (bytes + added > budget)
            {
                break;
            }

            bytes += added;
            widths[increment.Sample] = increment.Width;
        }

        Assert.Contains(order.Increments, i => i.Width > 1);
        Assert.InRange(table.MeanSquaredError(widths), 0.99 * table.MeanSquaredError(spent), 1.01 * table.MeanSquaredError(spent));
    }

    [Fact]
    public void Lower_hull_skips_points_above_the_chord()
    {
        // Width 1 is barely better than width 0 while width 2 is much better: the hull goes 0 → 2.
        Span<byte> vertices = stackalloc byte[9];
        var count = AdaptiveAllocator.LowerHull([0, 1, 2, 3], [100, 99, 10, 9], vertices);

        Assert.Equal(new byte[] { 0, 2, 3 }, vertices[..count].ToArray());
    }

    private static byte[] Allocate(IBitAllocator allocator, DistortionTable table, int n, long budget)
    {
        var bits = new byte[n];
        var problem = new AllocationProblem(n, 784, budget) { Distortion = table.Distortion, Seed = 7 };
        allocator.Allocate(problem, bits);
        Assert.True(problem.TotalBytes(bits) <= budget, $"{allocator.Name} overspent");
        return bits;
    }
}
