using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// A prefix of a dataset's layers served whole: the shard and held increments a device holds once it has applied
/// layers <c>0..k−1</c>, byte for byte. A device that would otherwise pull those layers receives what it keeps and
/// nothing more: every layer carries a header and, per entry, the sample, its widths and its reconstruction, which on
/// small images weigh as much as the planes they deliver (docs/format.md §14).
/// </summary>
public sealed record LayerPrefix(int Layers, string ShardPath, long ShardBytes, string HeldPath, long HeldBytes)
{
    public long Bytes => ShardBytes + HeldBytes;
}

/// <summary>Where prefixes are made (at the fleet's budgets, by the coordinator) and which one a device takes.</summary>
public static class LayerPrefixes
{
    /// <summary>Prefixes a publish writes at most: each costs the coordinator its bytes on disk (a manifest may list 64).</summary>
    public const int MaxWrittenPerVersion = 32;

    /// <summary>What the prefixes of a version may take together, in multiples of the dataset's full held size.</summary>
    public const int MaxBytesInFullSizes = 4;

    /// <summary>Layer bytes applied at a time while the prefixes are made.</summary>
    private const long ApplyBatchBytes = 64L << 20;

    public static string ShardFileName(string prefix, int layers) => $"{prefix}-P{layers:D5}{DqsConstants.FileExtension}";

    public static string HeldFileName(string prefix, int layers) => $"{prefix}-P{layers:D5}{HeldIncrements.FileExtension}";

    /// <summary>
    /// The layer counts that end at <paramref name="cutAtHeldBytes"/>: for each, the longest prefix whose held bytes
    /// fit it (none when not even layer 0 does), distinct, smallest first, at most <see cref="MaxWrittenPerVersion"/>
    /// and together at most <see cref="MaxBytesInFullSizes"/> times the full held size, so that a fleet of many
    /// budgets near the full size does not multiply the coordinator's disk by 32.
    /// </summary>
    public static IReadOnlyList<int> CountsAt(IReadOnlyList<LayerInfo> layers, IEnumerable<long> cutAtHeldBytes)
    {
        var counts = new List<int>();
        if (layers.Count == 0)
        {
            return counts;
        }

        var left = (long)MaxBytesInFullSizes * layers[^1].HeldBytesAfter;
        foreach (var count in cutAtHeldBytes.Select(cut => LayerBuilder.LayersWithin(layers, cut)).Where(count => count > 0).Distinct().Order())
        {
            var bytes = layers[count - 1].HeldBytesAfter;
            if (counts.Count == MaxWrittenPerVersion || bytes > left)
            {
                break;
            }

            counts.Add(count);
            left -= bytes;
        }

        return counts;
    }

    /// <summary>
    /// Writes the prefix of each of <paramref name="counts"/> layers into <paramref name="directory"/>, by applying the
    /// layers exactly as a device does (<see cref="ProgressiveHoldings"/>), so each is what a device holding that many
    /// layers holds; <paramref name="heldVersion"/> is the held-increments version the layers' held sizes count.
    /// </summary>
    public static IReadOnlyList<LayerPrefix> Write(IReadOnlyList<LayerInfo> layers, IReadOnlyList<int> counts, string directory, string prefix,
        CancellationToken cancellationToken = default, int heldVersion = HeldIncrements.LatestVersion)
    {
        var prefixes = new List<LayerPrefix>(counts.Count);
        if (counts.Count == 0)
        {
            return prefixes;
        }

        var scratch = Path.Combine(directory, $".prefixes-{Guid.NewGuid():N}");
        Directory.CreateDirectory(scratch);
        try
        {
            var holdings = ProgressiveHoldings.Open(scratch, prefix, heldVersion);
            foreach (var count in counts.Distinct().Order())
            {
                ArgumentOutOfRangeException.ThrowIfGreaterThan(count, layers.Count, nameof(counts));
                while (holdings.LayerCount < count)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var batch = NextBatch(layers, holdings.LayerCount, count);
                    holdings.Apply([.. batch.Select(l => File.ReadAllBytes(l.Path))], [.. batch.Select(l => Path.GetFileName(l.Path))]);
                }

                if (holdings.HeldBytes != layers[count - 1].HeldBytesAfter)
                {
                    throw new InvalidOperationException($"the prefix of {count} layers holds {holdings.HeldBytes} bytes; layer {count - 1} says {layers[count - 1].HeldBytesAfter}.");
                }

                var (shard, held) = (Path.Combine(directory, ShardFileName(prefix, count)), Path.Combine(directory, HeldFileName(prefix, count)));
                // Durable before publish hashes and signs them: a copy lost to a power cut would fail every device's check.
                CopyDurably(holdings.ShardPath, shard);
                CopyDurably(holdings.HeldPath, held);
                prefixes.Add(new LayerPrefix(count, shard, new FileInfo(shard).Length, held, new FileInfo(held).Length));
            }
        }
        finally
        {
            Directory.Delete(scratch, recursive: true);
        }

        return prefixes;
    }

    /// <summary>
    /// Which prefix a device holding <paramref name="applied"/> layers and wanting <paramref name="target"/> should
    /// fetch instead of layers: the one, among those beyond what it holds and within the target, that saves the most
    /// bytes against pulling the layers it replaces (the shortest on a tie); 0 when none saves any.
    /// <paramref name="layerBytes"/>(from, to) is the size of layers from..to−1 together; <paramref name="prefixes"/>
    /// lists each prefix's layer count and bytes.
    /// </summary>
    public static int Choose(Func<int, int, long> layerBytes, IEnumerable<(int Layers, long Bytes)> prefixes, int applied, int target)
    {
        ArgumentNullException.ThrowIfNull(layerBytes);
        var (best, bestSaving) = (0, 0L);
        foreach (var (count, bytes) in prefixes)
        {
            if (count <= applied || count > target)
            {
                continue;
            }

            var saving = layerBytes(applied, count) - bytes;
            if (saving > bestSaving || (saving == bestSaving && saving > 0 && count < best))
            {
                (best, bestSaving) = (count, saving);
            }
        }

        return best;
    }

    private static void CopyDurably(string source, string destination)
    {
        using var writer = new AtomicFileWriter(destination);
        using (var input = File.OpenRead(source))
        {
            input.CopyTo(writer.Stream);
        }

        writer.Commit();
    }

    private static List<LayerInfo> NextBatch(IReadOnlyList<LayerInfo> layers, int from, int to)
    {
        var batch = new List<LayerInfo>();
        long bytes = 0;
        for (var l = from; l < to && (batch.Count == 0 || bytes + layers[l].Bytes <= ApplyBatchBytes); l++)
        {
            batch.Add(layers[l]);
            bytes += layers[l].Bytes;
        }

        return batch;
    }
}
