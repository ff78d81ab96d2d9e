using System.Buffers;

namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// Moves a sample's plain grid (two-means threshold, least covering step) to where its pixels' values fall best. The
/// threshold may go to any whole number within 8 levels that splits the pixels as the plain one does (on an image of few
/// grey levels, anywhere between two of them; on a dense one it mostly stays), and the step may grow up to 16 codes past
/// the least that covers the range. Of those grids the one with the least squared error summed over 1..6 planes wins,
/// the error at k planes weighted by 4^k (a plane cuts the error about fourfold, so each plane count weighs alike); the
/// plain grid on a tie. The first plane's split never moves: what moves is the finer cells, which a grid placed by the
/// extremes alone puts across clusters of values (or, on an image of 17 grey levels, on the levels themselves).
/// Measured through the fleet at the same bytes: less pixel MSE on five sets at 0.25–4 bpp, most at 2–4 bpp on small
/// images (8×8 digits at 4 bpp 0.55×), but colour images at 2 bpp (+0.2 %) (docs/results.md, "The issue's own 8×8 set,
/// and planes grids placed by the sample's values"); a reach of 16 levels for the threshold bought nothing more, and
/// steps below the least covering one (clipping) nothing at all.
/// At most 17 × 17 grids over the sample's distinct values; nothing allocated (pooled arrays for pixels that are not
/// whole grey levels).
/// </summary>
internal static class PlaneGridSearch
{
    /// <summary>How far the threshold may move either way, in grey levels.</summary>
    private const int ThresholdReach = 8;

    /// <summary>How many step codes past the least covering one are tried.</summary>
    private const int StepReach = 16;

    /// <summary>
    /// The plane counts the cost weighs. At a step of about 1 a sixth plane's cells are 4 grey levels wide; finer cells
    /// on whole-number pixels measure the pixels' own rounding more than where the grid lies, and weighted 4^k they
    /// outweighed the rest (1..8 planes: colour images 0.5–1.5 % worse at 2–4 bpp than the plain grid).
    /// </summary>
    private const int WeighedPlanes = 6;

    public static PlaneGrid Best(ReadOnlySpan<float> pixels, PlaneGrid plain, double min, double max)
    {
        Span<float> levels = stackalloc float[256];
        Span<int> counts = stackalloc int[256];
        var distinct = WholeLevels(pixels, levels, counts);
        if (distinct >= 0)
        {
            return Search(levels[..distinct], counts[..distinct], plain, min, max);
        }

        // Pixels that are not whole grey levels (a float source): their distinct values, sorted, in pooled arrays.
        var sorted = ArrayPool<float>.Shared.Rent(pixels.Length);
        var pooledLevels = ArrayPool<float>.Shared.Rent(pixels.Length);
        var pooledCounts = ArrayPool<int>.Shared.Rent(pixels.Length);
        try
        {
            pixels.CopyTo(sorted);
            sorted.AsSpan(0, pixels.Length).Sort();
            distinct = RunLengths(sorted.AsSpan(0, pixels.Length), pooledLevels, pooledCounts);
            return Search(pooledLevels.AsSpan(0, distinct), pooledCounts.AsSpan(0, distinct), plain, min, max);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(sorted);
            ArrayPool<float>.Shared.Return(pooledLevels);
            ArrayPool<int>.Shared.Return(pooledCounts);
        }
    }

    private static PlaneGrid Search(Span<float> levels, Span<int> counts, PlaneGrid plain, double min, double max)
    {
        var (below, above) = Neighbours(levels, plain.Threshold);

        // The most frequent levels first: a grid that costs more than the best so far is left after fewer of them.
        NegateCounts(counts);
        counts.Sort(levels);
        NegateCounts(counts);
        var best = plain;
        var bestCost = Cost(plain, levels, counts, double.MaxValue);
        var lowest = Math.Max(Math.Max(0, plain.Threshold - ThresholdReach), (int)Math.Floor(below) + 1);
        var highest = Math.Min(Math.Min(255, plain.Threshold + ThresholdReach), (int)Math.Floor(above));
        for (var threshold = lowest; threshold <= highest; threshold++)
        {
            var least = PlaneGrid.LeastStepCode(threshold, min, max);
            for (var step = least; step <= Math.Min(PlaneGrid.MaxStepCode, least + StepReach); step++)
            {
                var grid = new PlaneGrid((byte)threshold, (byte)step);
                var cost = Cost(grid, levels, counts, bestCost);
                if (cost < bestCost)
                {
                    (best, bestCost) = (grid, cost);
                }
            }
        }

        return best;
    }

    /// <summary>Σ over k = 1..<see cref="WeighedPlanes"/> of 4^k · the squared error at k planes; stops once past <paramref name="bound"/>.</summary>
    internal static double Cost(PlaneGrid grid, ReadOnlySpan<float> levels, ReadOnlySpan<int> counts, double bound = double.MaxValue)
    {
        // 256·x̂ = 256·origin + (64 + g)·(2·cell start + cell width) in whole numbers: format.md §14's reconstruction,
        // exact, without PlaneGrid.Reconstruct's float steps (this runs for every level of every grid tried).
        int origin256 = 256 * grid.Origin, scale = 64 + grid.StepCode;
        double total = 0;
        for (var j = 0; j < levels.Length && total < bound; j++)
        {
            int code = grid.CodeOf(levels[j]);
            var x256 = 256.0 * levels[j];
            double sum = 0;
            for (var dropped = PlaneCoder.Planes - 1; dropped >= PlaneCoder.Planes - WeighedPlanes; dropped--)
            {
                var start = (code >> dropped) << dropped;
                var reconstruction = Math.Clamp(origin256 + (scale * ((2 * start) + (1 << dropped))), 0, 255 * 256);
                var error = x256 - reconstruction;
                sum += (1L << (2 * (PlaneCoder.Planes - dropped))) * error * error;
            }

            total += counts[j] * sum / 65536;
        }

        return total;
    }

    /// <summary>The largest level below the threshold (−1 if none) and the least at or above it (256 if none).</summary>
    private static (double Below, double Above) Neighbours(ReadOnlySpan<float> levels, int threshold)
    {
        double below = -1, above = 256;
        foreach (var level in levels)
        {
            if (level < threshold)
            {
                below = level;
            }
            else
            {
                above = level;
                break;
            }
        }

        return (below, above);
    }

    /// <summary>The histogram of whole-number pixels 0..255 as (level, count) pairs in order; −1 if any pixel is not one.</summary>
    private static int WholeLevels(ReadOnlySpan<float> pixels, Span<float> levels, Span<int> counts)
    {
        counts.Clear();
        foreach (var v in pixels)
        {
            var level = (int)v;
            if (level != v || (uint)level > 255)
            {
                return -1;
            }

            counts[level]++;
        }

        var distinct = 0;
        for (var level = 0; level < 256; level++)
        {
            if (counts[level] > 0)
            {
                (levels[distinct], counts[distinct]) = (level, counts[level]);
                distinct++;
            }
        }

        return distinct;
    }

    private static void NegateCounts(Span<int> counts)
    {
        for (var j = 0; j < counts.Length; j++)
        {
            counts[j] = -counts[j];
        }
    }

    private static int RunLengths(ReadOnlySpan<float> sorted, Span<float> levels, Span<int> counts)
    {
        var distinct = 0;
        for (var i = 0; i < sorted.Length; i++)
        {
            if (distinct > 0 && levels[distinct - 1] == sorted[i])
            {
                counts[distinct - 1]++;
            }
            else
            {
                (levels[distinct], counts[distinct]) = (sorted[i], 1);
                distinct++;
            }
        }

        return distinct;
    }
}
