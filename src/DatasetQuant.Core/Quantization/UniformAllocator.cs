namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The same width b for every sample, the largest the budget affords; what is left over lifts evenly spaced samples to
/// b + 1. Below 1 bit per pixel, evenly spaced samples get 1 bit and the rest are dropped.
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
        while (width < SampleQuantizer.MaxBits && problem.BytesAt(width + 1) * n <= problem.BudgetBytes)
        {
            width++;
        }

        long lifted = 0;
        if (width < SampleQuantizer.MaxBits)
        {
            var step = problem.BytesAt(width + 1) - problem.BytesAt(width);
            lifted = Math.Min(n, (problem.BudgetBytes - problem.BytesAt(width) * n) / step);
        }

        for (var i = 0; i < n; i++)
        {
            // Sample i is lifted when the running share floor((i+1)·k/n) steps up: k samples, evenly spread.
            var lift = (i + 1L) * lifted / n > (long)i * lifted / n ? 1 : 0;
            bits[i] = (byte)Math.Min(width + lift, problem.MaxBitsOf(i));
        }
    }
}
