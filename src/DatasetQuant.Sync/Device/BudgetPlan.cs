using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// How a device divides its byte budget: every shard of every dataset it holds gets the same fraction of its
/// full-precision size, <c>target = floor(size × budget / Σ sizes)</c>, or its full size when everything fits.
/// A layered dataset (protocol version 2) is one share of its full held size, filled with the longest prefix of its
/// layers that fits (<see cref="ManifestLayer.LayersWithin"/>). The sum of targets never exceeds the budget.
/// </summary>
internal static class BudgetPlan
{
    /// <summary>The budget in force: the coordinator's, capped by the local flash quota; null when neither is set.</summary>
    public static long? Effective(long? desiredBytes, long? quotaBytes) => (desiredBytes, quotaBytes) switch
    {
        (null, null) => null,
        ({ } d, null) => d,
        (null, { } q) => q,
        ({ } d, { } q) => Math.Min(d, q),
    };

    public static long Target(ManifestShard shard, long? budget, long totalFullBytes)
    {
        if (budget is not { } b || b >= totalFullBytes || totalFullBytes == 0)
        {
            return shard.Size;
        }

        return (long)((Int128)shard.Size * b / totalFullBytes);
    }

    /// <summary>A layered dataset's share: the same fraction of its full held size as every shard gets of its size.</summary>
    public static long LayeredTarget(DatasetManifest manifest, long? budget, long totalFullBytes) =>
        budget is not { } b || b >= totalFullBytes || totalFullBytes == 0 ? manifest.FullHeldBytes : (long)((Int128)manifest.FullHeldBytes * b / totalFullBytes);

    /// <summary>
    /// The layers a device fetches before applying them together: from the first not applied, as many as fit an eighth
    /// of what it holds (at least one), up to <paramref name="target"/>. One rewrite of the shard then serves a batch,
    /// so filling a budget rewrites about nine times its bytes instead of fifty (one layer adds about 2 %), and the
    /// layer files beside the holdings stay below an eighth of them.
    /// </summary>
    public static int LayerBatchEnd(DatasetManifest manifest, int applied, long heldBytes, int target)
    {
        var end = applied;
        long batch = 0;
        while (end < target && (end == applied || batch + manifest.Shards[end].Size <= heldBytes / 8))
        {
            batch += manifest.Shards[end++].Size;
        }

        return end;
    }

    /// <summary>Full size of the quantized shards held; generators are outside the proportional share.</summary>
    public static long TotalFullBytes(IEnumerable<DatasetHoldings> datasets)
    {
        long total = 0;
        foreach (var holdings in datasets)
        {
            total += holdings.Signed.Manifest.IsGenerator ? 0 : holdings.Signed.Manifest.FullHeldBytes;
        }

        return total;
    }

    /// <summary>The budget left for quantized shards once the generators that fit it are held whole.</summary>
    public static long? ShardBudget(long? budget, IEnumerable<DatasetHoldings> datasets)
    {
        if (budget is not { } left)
        {
            return null;
        }

        foreach (var holdings in datasets)
        {
            var manifest = holdings.Signed.Manifest;
            if (manifest.IsGenerator && manifest.TotalBytes <= left)
            {
                left -= manifest.TotalBytes;
            }
        }

        return left;
    }

    /// <summary>
    /// Whether a generator earns its share of the budget. It must fit, and its mixing rule (<paramref name="ratioAt"/>:
    /// the synthetic share at a number of shard bytes, null without a rule) must not give 0 at the shard bytes the
    /// device would hold beside it: there the frontier found that the generator adds nothing, so it is not held and
    /// the shards get its bytes. Without a rule (none in its manifest, or the manifest not yet received) it is held.
    /// </summary>
    public static bool UsesGenerator(long generatorBytes, long? budget, long shardFullBytes, Func<long, double?> ratioAt)
    {
        ArgumentNullException.ThrowIfNull(ratioAt);
        if (budget is { } fits && generatorBytes > fits)
        {
            return false;
        }

        var shardBytes = budget is { } b ? Math.Min(b - generatorBytes, shardFullBytes) : shardFullBytes;
        return ratioAt(shardBytes) is not 0;
    }

    /// <summary>
    /// Whether a rise makes a re-fetch of the full shard worth it: the target must exceed what is held by at least
    /// one chunk and a tenth of the shard, so that small rises do not cost a download each, or reach the full size
    /// (a shard smaller than a chunk could otherwise never be taken back whole).
    /// </summary>
    public static bool WorthRefetch(ManifestShard shard, long heldBytes, long target, int chunkSize) =>
        heldBytes < shard.Size && (target >= shard.Size || target - heldBytes >= Math.Max(chunkSize, shard.Size / 10));
}
