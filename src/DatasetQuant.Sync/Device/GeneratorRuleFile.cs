using System.Text.Json;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The mixing rule of a pushed generator, read from the generator manifest file (<c>G.json</c>) it travels with:
/// the sync layer needs only the rule's points to decide whether the generator earns a share of the budget, so it
/// reads that one field and leaves the rest of the manifest to the agent's ONNX side.
/// </summary>
internal static class GeneratorRuleFile
{
    /// <summary>The entry of a generator push that holds its manifest (and so its rule): the one named *.json.</summary>
    public static ManifestShard? Find(DatasetManifest manifest)
    {
        foreach (var shard in manifest.Shards)
        {
            if (shard.Name.EndsWith(".json", StringComparison.OrdinalIgnoreCase))
            {
                return shard;
            }
        }

        return null;
    }

    /// <summary>
    /// The rule's points, or null when the manifest has none. A file that is not JSON or whose <c>mixing</c> is not
    /// a list of <c>{shardBytes, ratio}</c> throws <see cref="InvalidDataException"/> naming the file and field.
    /// </summary>
    public static IReadOnlyList<(long ShardBytes, double Ratio)>? Read(string path)
    {
        JsonDocument document;
        try
        {
            // The signed manifest gave its size and hash (a few hundred bytes for a real one); never read more than 1 MiB.
            var bytes = File.ReadAllBytes(path);
            if (bytes.Length > 1 << 20)
            {
                throw new InvalidDataException($"{path}: {bytes.Length} bytes is too large for a generator manifest");
            }

            document = JsonDocument.Parse(bytes);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{path}: not JSON ({ex.Message})", ex);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("mixing", out var mixing)
                || mixing.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (mixing.ValueKind != JsonValueKind.Array)
            {
                throw new InvalidDataException($"{path}: field 'mixing' is not a list");
            }

            var points = new List<(long, double)>(mixing.GetArrayLength());
            foreach (var point in mixing.EnumerateArray())
            {
                if (point.ValueKind != JsonValueKind.Object
                    || !point.TryGetProperty("shardBytes", out var bytes) || !bytes.TryGetInt64(out var shardBytes) || shardBytes <= 0
                    || !point.TryGetProperty("ratio", out var ratio) || !ratio.TryGetDouble(out var share) || share is < 0 or >= 1)
                {
                    throw new InvalidDataException($"{path}: field 'mixing[{points.Count}]' needs shardBytes > 0 and a ratio in [0, 1)");
                }

                points.Add((shardBytes, share));
            }

            return points.Count == 0 ? null : points;
        }
    }

    public static double? RatioFor(IReadOnlyList<(long ShardBytes, double Ratio)>? rule, long shardBytes) =>
        rule is null ? null : SyntheticMixing.RatioFor(rule, shardBytes);
}
