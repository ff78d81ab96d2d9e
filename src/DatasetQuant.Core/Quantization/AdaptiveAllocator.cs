namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Minimises Σ w_i·D_i(b_i) under the byte budget. Each sample's (bytes, w·D) points for b = 0..max form a curve; only
/// its lower convex hull matters for a Lagrangian optimum. Every sample starts dropped; a max-heap hands the next byte
/// to the hull segment with the greatest distortion saved per byte, until the budget is spent. A segment that no
/// longer fits is skipped, and the cheaper segments of other samples still fill what is left. O(N·9·log N). Each sample's
/// curve uses its own costs (<see cref="AllocationProblem.BytesAt"/>), so a codec whose sizes vary per sample is
/// allocated by the same rules.
/// <para>
/// When the problem has labels, the optimum decides which samples go only where dropping is its choice; where the
/// budget forces drops (it cannot hold every sample at 1 bit), the budget decides how many go and coverage decides
/// which: as many samples as the budget affords at 1 bit are kept (with per-sample costs, as many as fit of the ones
/// coverage chooses), chosen by <see cref="CoverageSelection"/> (each class its share, spread over the ranks of <see cref="AllocationProblem.CoverageScore"/>, by default the drop cost; past half
/// of a class, the dearest to drop by <see cref="AllocationProblem.DropPrices"/>), and the same greedy spends what is
/// left on widths 2..8. The optimum would keep fewer samples at more bits whenever its D_i(0) prices a dropped sample
/// below a coarse copy of it, and no per-sample distortion prices what a sample teaches about the others: on ~1,300
/// images of 8×8 or 14×14 a reference model's loss on a sample it was trained on is below its KL at 1 bit for about
/// half the samples, so the optimum kept 55–68% of what 0.5 bpp affords and lost up to 1.6 points to uniform selection
/// at 14×14, 3.6 on a held-out set of 8×8 digits (docs/results.md, "Forced drops on small data").
/// </para>
/// <para>
/// A measure whose D_i(0) is a reference model's loss on the sample (<see cref="AllocationProblem.DropCostRanksSamples"/>)
/// knows which samples the data can spare: the ones the model already gets right. Dropping those is what data-pruning
/// studies find best while most of the data stays, and worst when little does (a model trained on the hard tail alone
/// misses the typical test images). So when the budget affords every sample at 1 bit, and a drop is the optimum's
/// choice rather than the budget's, the optimum stands, but only where the measure's own prices say a drop costs
/// clearly more than a coarse copy (<see cref="AllocationProblem.DropCostTrusted"/>: Σ w_i·D_i(1) / Σ w_i·D_i(0) at most
/// <see cref="AllocationProblem.TrustedCoarseToDropRatio"/>) and the set holds at least
/// <see cref="AllocationProblem.TrustedSamplesPerValue"/> samples per input value. A reference that has memorised a small
/// training set prices a dropped sample at about its 1-bit copy or below (the ratio 0.97–1.92 on ~1,300 images, 0.46 on
/// the 60,000 Fashion-MNIST images, each over the samples it predicts at least as well as chance), and the easy half it
/// then drops is what a small set cannot spare; <see cref="DatasetQuantizer"/> does not let such prices allocate at all
/// where class coverage is on (<see cref="AllocationProblem.MeasureTrusted"/>). One that has not memorised the set
/// prices drops high, and its easy half is still what a set small against its dimension cannot spare (11.8 points below
/// uniform on 1,000 images of 28×28). Such a drop cost is treated as one that does not rank samples: an optional drop
/// (as with pixel MSE, whose D_i(0) is distance to the mean image and ranks the atypical tail first) keeps the
/// optimum's count with coverage choosing which, or every sample at 1 bit where that costs less Σ w_i·D_i(b_i)
/// (docs/results.md, "Budget sweep" and "Forced drops on small data"). Without labels (no coverage) the plain optimum
/// stands in every case.
/// </para>
/// </summary>
public sealed partial class AdaptiveAllocator : IBitAllocator
{
    public string Name => "adaptive";

    public bool NeedsDistortion => true;

    public void Allocate(AllocationProblem problem, Span<byte> bits)
    {
        var n = problem.Count;
        if (problem.Distortion.Length < (long)n * SampleQuantizer.WidthCount)
        {
            throw new ArgumentException($"adaptive allocation needs {n}×9 distortion values, got {problem.Distortion.Length}.", nameof(problem));
        }

        if (!problem.Labels.IsEmpty && problem.Labels.Length != n)
        {
            throw new ArgumentException($"adaptive allocation got {problem.Labels.Length} labels for {n} samples.", nameof(problem));
        }

        if (!problem.CoverageScore.IsEmpty && problem.CoverageScore.Length != n)
        {
            throw new ArgumentException($"adaptive allocation got {problem.CoverageScore.Length} coverage scores for {n} samples.", nameof(problem));
        }

        bits[..n].Clear();
        Grow(problem, bits, used: 0, fromDropped: true);
        if (!problem.Labels.IsEmpty)
        {
            ChooseDrops(problem, bits);
        }

        SpendRest(problem, bits);
    }

    /// <summary>
    /// The greedy's increments with no budget limit, in the order it takes them: the allocation it makes for any budget
    /// is the longest prefix that fits (less whatever later, cheaper segments fill after the first that does not). The
    /// order ranks by importance-weighted distortion alone; class coverage, which changes which samples a forced drop
    /// removes, is not part of it. Where the measure stops gaining, the fallback's increments follow (<see cref="SpendRest"/>).
    /// </summary>
    public static IncrementOrder Order(AllocationProblem problem)
    {
        ArgumentNullException.ThrowIfNull(problem);
        var increments = new List<Increment>(problem.Count * 4);
        GrowUnbounded(problem, new byte[problem.Count], fromDropped: true, increments);
        return new IncrementOrder(problem.Count, problem.PixelsPerSample, increments);
    }

    /// <summary>
    /// The greedy's increments from the widths in <paramref name="bits"/> (samples at 0 stay dropped) with no budget limit,
    /// appended to <paramref name="increments"/> in the order it takes them.
    /// </summary>
    internal static void GrowInOrder(AllocationProblem problem, Span<byte> bits, List<Increment> increments) =>
        GrowUnbounded(problem, bits, fromDropped: false, increments);

    private static void GrowUnbounded(AllocationProblem problem, Span<byte> bits, bool fromDropped, List<Increment> increments)
    {
        Grow(Over(problem, problem.Distortion, long.MaxValue / 2), bits, used: 0, fromDropped, increments);
        if (!problem.FallbackDistortion.IsEmpty)
        {
            Grow(Over(problem, problem.FallbackDistortion, long.MaxValue / 2), bits, used: 0, fromDropped: false, increments);
        }
    }

    /// <summary>
    /// What the measure leaves of the budget goes to the fallback's gains (<see cref="AllocationProblem.FallbackDistortion"/>),
    /// from the widths chosen, dropped samples staying dropped: a measure that sees nothing left to gain does not make
    /// the bytes worth nothing. A reference model sure of every sample at 1 bit left a third of a 2 bpp budget unspent
    /// on 2,000 colour images and trained 2.3 points below uniform (docs/results.md, "Forced drops by a reference that
    /// generalises").
    /// </summary>
    private static void SpendRest(AllocationProblem problem, Span<byte> bits)
    {
        if (problem.FallbackDistortion.IsEmpty)
        {
            return;
        }

        long used = 0;
        for (var i = 0; i < problem.Count; i++)
        {
            used += problem.BytesAt(i, bits[i]);
        }

        Grow(Over(problem, problem.FallbackDistortion, problem.BudgetBytes), bits, used, fromDropped: false);
    }

    /// <summary>The same samples, weights, caps and byte costs, over <paramref name="distortion"/> and <paramref name="budget"/>.</summary>
    private static AllocationProblem Over(AllocationProblem problem, ReadOnlyMemory<double> distortion, long budget) =>
        new(problem.Count, problem.PixelsPerSample, budget)
        {
            Distortion = distortion,
            Importance = problem.Importance,
            MaxBits = problem.MaxBits,
            RecordBytes = problem.RecordBytes,
            SampleBytes = problem.SampleBytes,
        };

    /// <summary>
    /// Lifts widths along each sample's lower hull from its current width, best distortion saved per byte first, while
    /// the budget lasts. Dropped samples take part only when <paramref name="fromDropped"/>.
    /// </summary>
    private static void Grow(AllocationProblem problem, Span<byte> bits, long used, bool fromDropped, List<Increment>? taken = null)
    {
        var n = problem.Count;
        var distortion = problem.Distortion.Span;
        // hull[i·9 + k] = k-th hull vertex (a width) of sample i; hullLength[i] vertices; position[i] = current vertex.
        var hull = new byte[n * SampleQuantizer.WidthCount];
        var hullLength = new byte[n];
        var position = new byte[n];
        var queue = new PriorityQueue<int, (double NegativeSlope, int Index)>(n);
        Span<double> x = stackalloc double[SampleQuantizer.WidthCount];
        Span<double> y = stackalloc double[SampleQuantizer.WidthCount];
        for (var i = 0; i < n; i++)
        {
            if (bits[i] == 0 && !fromDropped)
            {
                continue;
            }

            var weight = problem.ImportanceOf(i);
            var max = problem.MaxBitsOf(i);
            for (var b = 0; b <= max; b++)
            {
                x[b] = problem.BytesAt(i, b);
                y[b] = weight * distortion[i * SampleQuantizer.WidthCount + b];
            }

            var vertices = hull.AsSpan(i * SampleQuantizer.WidthCount, SampleQuantizer.WidthCount);
            hullLength[i] = (byte)LowerHull(x[..(max + 1)], y[..(max + 1)], bits[i], vertices);
            Enqueue(queue, i, vertices[..hullLength[i]], 0, x, y);
        }

        var budget = problem.BudgetBytes;
        while (queue.TryDequeue(out var i, out _))
        {
            var vertices = hull.AsSpan(i * SampleQuantizer.WidthCount, hullLength[i]);
            var from = vertices[position[i]];
            var to = vertices[position[i] + 1];
            var cost = problem.BytesAt(i, to) - problem.BytesAt(i, from);
            if (used + cost > budget)
            {
                continue;
            }

            used += cost;
            position[i]++;
            bits[i] = to;
            taken?.Add(new Increment(i, to));
            if (position[i] + 1 < vertices.Length)
            {
                var weight = problem.ImportanceOf(i);
                for (var k = 0; k < vertices.Length; k++)
                {
                    x[vertices[k]] = problem.BytesAt(i, vertices[k]);
                    y[vertices[k]] = weight * distortion[i * SampleQuantizer.WidthCount + vertices[k]];
                }

                Enqueue(queue, i, vertices, position[i], x, y);
            }
        }
    }

    private static void Enqueue(PriorityQueue<int, (double, int)> queue, int index, ReadOnlySpan<byte> vertices, int at, ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (at + 1 >= vertices.Length)
        {
            return;
        }

        int from = vertices[at], to = vertices[at + 1];
        var slope = (y[from] - y[to]) / (x[to] - x[from]);
        queue.Enqueue(index, (-slope, index));
    }

    /// <summary>
    /// Vertices of the lower convex hull of (x[b], y[b]) from b = 0, keeping only segments that lower y. Returns the count.
    /// </summary>
    internal static int LowerHull(ReadOnlySpan<double> x, ReadOnlySpan<double> y, Span<byte> vertices) => LowerHull(x, y, 0, vertices);

    /// <summary>The same hull, starting at width <paramref name="first"/> (the widths below it are not considered).</summary>
    internal static int LowerHull(ReadOnlySpan<double> x, ReadOnlySpan<double> y, int first, Span<byte> vertices)
    {
        var count = 0;
        for (var b = first; b < x.Length; b++)
        {
            if (count > 0 && y[b] >= y[vertices[count - 1]])
            {
                continue;
            }

            while (count >= 2)
            {
                int p = vertices[count - 2], q = vertices[count - 1];
                // q lies on or above the line p→b: it is not on the lower hull.
                var cross = (x[q] - x[p]) * (y[b] - y[p]) - (y[q] - y[p]) * (x[b] - x[p]);
                if (cross <= 0)
                {
                    count--;
                }
                else
                {
                    break;
                }
            }

            vertices[count++] = (byte)b;
        }

        return count;
    }
}
