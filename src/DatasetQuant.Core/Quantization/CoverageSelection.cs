namespace DatasetQuant.Core.Quantization;

/// <summary>
/// Which samples keep a width above 0 when only <c>keep</c> of them can: every class keeps its proportional share
/// (largest remainder), and inside a class the kept samples are spread evenly over the ranks of a per-sample score, one
/// from the middle of each of k equal strata. Distortion alone keeps the samples whose removal costs most — the
/// atypical tail of each class, and more of some classes than others — and a model trained on that subset misses the
/// typical test images; stratifying keeps a subset that covers each class from its typical to its atypical samples.
/// Where a class keeps more than half of its samples and the caller gives a drop price per sample, the strata hold
/// half of the class (every other rank, so each sample still out has a kept neighbour) and the rest go by that price,
/// dearest first, so a budget that drops few drops the cheapest, as <see cref="CoverageOrder"/> does for its prefixes
/// (strata middles for the whole quota had 1.35× the pixel MSE of that rule at 0.75 bpp on Fashion-MNIST test, and
/// trained no better: docs/results.md, "Bit budgets through the fleet, seventh round").
/// O(N log N), deterministic (ties broken by index).
/// </summary>
public static class CoverageSelection
{
    /// <summary>Sets <paramref name="kept"/>[i] for exactly min(keep, N) samples.</summary>
    /// <param name="labels">Class of each sample, 0..classCount−1.</param>
    /// <param name="score">Orders the samples within a class (e.g. <see cref="ClassTypicality"/>).</param>
    /// <param name="dropPrice">
    /// What dropping each sample costs (<see cref="AllocationProblem.FirstBitGain"/>), or empty: then every kept sample is a
    /// stratum's middle.
    /// </param>
    public static void Select(ReadOnlySpan<int> labels, ReadOnlySpan<double> score, int keep, Span<bool> kept, ReadOnlySpan<double> dropPrice = default)
    {
        var n = labels.Length;
        if (score.Length != n || kept.Length != n || (!dropPrice.IsEmpty && dropPrice.Length != n))
        {
            throw new ArgumentException($"coverage selection needs one score, one flag and no or one drop price per label ({n}), got {score.Length}, {kept.Length} and {dropPrice.Length}.");
        }

        kept.Clear();
        keep = Math.Clamp(keep, 0, n);
        if (keep == 0)
        {
            return;
        }

        var classCount = 0;
        foreach (var label in labels)
        {
            if (label < 0)
            {
                throw new ArgumentException($"label {label} is negative; coverage selection needs class indices.", nameof(labels));
            }

            classCount = Math.Max(classCount, label + 1);
        }

        // Members of each class, grouped by a counting sort, then ordered by score inside the group.
        var start = new int[classCount + 1];
        foreach (var label in labels)
        {
            start[label + 1]++;
        }

        for (var c = 0; c < classCount; c++)
        {
            start[c + 1] += start[c];
        }

        var members = new int[n];
        var fill = start.AsSpan(0, classCount).ToArray();
        for (var i = 0; i < n; i++)
        {
            members[fill[labels[i]]++] = i;
        }

        var quota = Quotas(start, keep);
        var keys = new double[n];
        for (var i = 0; i < n; i++)
        {
            keys[i] = score[members[i]];
        }

        for (var c = 0; c < classCount; c++)
        {
            var size = start[c + 1] - start[c];
            var group = members.AsSpan(start[c], size);
            var groupKeys = keys.AsSpan(start[c], size);
            groupKeys.Sort(group);
            SortEqualKeysByIndex(groupKeys, group);
            var strata = dropPrice.IsEmpty ? quota[c] : Math.Min(quota[c], (size + 1) / 2);
            for (var j = 0; j < strata; j++)
            {
                // The middle rank of stratum j of k equal strata over the class's size ranks.
                var rank = (int)(((2L * j + 1) * size) / (2L * strata));
                kept[group[rank]] = true;
            }

            KeepDearest(group, quota[c] - strata, dropPrice, kept);
        }
    }

    /// <summary>Keeps the <paramref name="count"/> samples of <paramref name="group"/> not yet kept with the highest drop price (ties: the lower index).</summary>
    private static void KeepDearest(ReadOnlySpan<int> group, int count, ReadOnlySpan<double> dropPrice, Span<bool> kept)
    {
        if (count <= 0)
        {
            return;
        }

        var rest = new List<(double NegativePrice, int Index)>(group.Length);
        foreach (var i in group)
        {
            if (!kept[i])
            {
                rest.Add((-dropPrice[i], i));
            }
        }

        rest.Sort();
        foreach (var (_, i) in rest[..count])
        {
            kept[i] = true;
        }
    }

    /// <summary>Per-class share of <paramref name="keep"/> proportional to class size, remainders to the largest fractions.</summary>
    internal static int[] Quotas(ReadOnlySpan<int> start, int keep)
    {
        var classCount = start.Length - 1;
        var n = start[classCount];
        var quota = new int[classCount];
        var remainder = new long[classCount];
        var given = 0;
        for (var c = 0; c < classCount; c++)
        {
            long size = start[c + 1] - start[c];
            quota[c] = (int)(size * keep / n);
            remainder[c] = size * keep % n;
            given += quota[c];
        }

        var order = new int[classCount];
        for (var c = 0; c < classCount; c++)
        {
            order[c] = c;
        }

        Array.Sort(order, (a, b) => remainder[b] != remainder[a] ? remainder[b].CompareTo(remainder[a]) : a.CompareTo(b));
        for (var r = 0; given < keep; r++)
        {
            var c = order[r % classCount];
            if (quota[c] < start[c + 1] - start[c])
            {
                quota[c]++;
                given++;
            }
        }

        return quota;
    }

    /// <summary>Span.Sort is not stable: runs of equal keys are put back in index order so the result never depends on it.</summary>
    private static void SortEqualKeysByIndex(ReadOnlySpan<double> keys, Span<int> items)
    {
        var from = 0;
        for (var i = 1; i <= keys.Length; i++)
        {
            if (i == keys.Length || keys[i] != keys[from])
            {
                if (i - from > 1)
                {
                    items[from..i].Sort();
                }

                from = i;
            }
        }
    }
}
