namespace DatasetQuant.Core.Datasets;

/// <summary>
/// A generator's mixing rule: the synthetic share of a training pass measured at a few shard sizes on the
/// bytes-versus-accuracy frontier. One lookup for every reader of the rule (the agent's fine-tuning and the device's
/// budget), so that both always agree on what share a device at a given size would draw.
/// </summary>
public static class SyntheticMixing
{
    /// <summary>
    /// The share for a device holding <paramref name="shardBytes"/> of shards: the point measured nearest on a log
    /// scale (below the first point, the first; above the last, the last); null for an empty rule.
    /// </summary>
    public static double? RatioFor(IEnumerable<(long ShardBytes, double Ratio)> rule, long shardBytes)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var held = Math.Log2(Math.Max(1, shardBytes));
        double? best = null;
        var bestDistance = double.MaxValue;
        foreach (var (bytes, ratio) in rule)
        {
            var distance = Math.Abs(Math.Log2(Math.Max(1, bytes)) - held);
            if (distance < bestDistance)
            {
                (best, bestDistance) = (ratio, distance);
            }
        }

        return best;
    }
}
