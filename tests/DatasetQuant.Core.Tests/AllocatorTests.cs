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
