using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// A file of a prefix of layers served whole (protocol versions 3 and 4): the shard (<see cref="ShardPart"/>) or the held
/// increments (<see cref="HeldPart"/>) a device holds once it has applied layers <c>0..Layers−1</c>, byte for byte. A
/// device fetches both in place of those layers when that costs fewer bytes, and installs them as its copy
/// (docs/protocol.md §7). The entry's <c>bitBudget</c>, <c>bitsPerPixel</c> and <c>sampleCount</c> are those of layer
/// <c>Layers−1</c>.
/// </summary>
public sealed class ManifestPrefix
{
    public const string ShardPart = "shard";

    public const string HeldPart = "held";

    /// <summary>Prefixes at most in one manifest (each is two entries).</summary>
    public const int MaxPerManifest = 64;

    /// <summary>How many layers the prefix stands for: 1..the manifest's layer count.</summary>
    [JsonRequired]
    public int Layers { get; init; }

    /// <summary><see cref="ShardPart"/> or <see cref="HeldPart"/>.</summary>
    [JsonRequired]
    public string Part { get; init; } = "";

    /// <summary>The prefixes of a valid manifest: each one's layer count and its two entries; none below format 3.</summary>
    public static IEnumerable<(int Layers, ManifestShard Shard, ManifestShard Held)> List(DatasetManifest manifest)
    {
        if (!manifest.HasPrefixes)
        {
            yield break;
        }

        for (var i = manifest.LayerCount; i + 1 < manifest.Shards.Count; i += 2)
        {
            yield return (manifest.Shards[i].Prefix!.Layers, manifest.Shards[i], manifest.Shards[i + 1]);
        }
    }

    /// <summary>
    /// The entries after the <paramref name="layers"/> layers: pairs of a shard part and a held part of the same prefix,
    /// ids going on from the layers', prefixes in increasing length, each pair's sizes adding up to the held bytes of
    /// its last layer, which is what a device holding that many layers has on flash. Format 3 lists at least one prefix
    /// (a publish without them wrote format 2); format 4 may list none.
    /// </summary>
    internal static string? Validate(DatasetManifest manifest, int layers)
    {
        var entries = manifest.Shards.Count - layers;
        var least = manifest.Format == DatasetManifest.PrefixesFormat ? 1 : 0;
        if (entries < 2 * least || entries % 2 != 0 || entries / 2 > MaxPerManifest)
        {
            return $"field 'prefix': {entries} entries follow the layers; a format {manifest.Format} manifest lists {least}..{MaxPerManifest} prefixes, each a pair of a '{ShardPart}' and a '{HeldPart}' entry";
        }

        var previous = 0;
        for (var i = layers; i < manifest.Shards.Count; i += 2)
        {
            var (shard, held) = (manifest.Shards[i], manifest.Shards[i + 1]);
            if (shard.Prefix is not { } prefix || held.Prefix is not { } heldPrefix || shard.Layer is not null || held.Layer is not null)
            {
                return $"shard {shard.Id}: an entry after the layers must have field 'prefix' and no 'layer'";
            }

            if (shard.Id != i || held.Id != i + 1)
            {
                return $"shard {shard.Id}: field 'id': prefixes must be listed after the layers with ids going on from them (position {i})";
            }

            if (prefix.Part != ShardPart || heldPrefix.Part != HeldPart || heldPrefix.Layers != prefix.Layers)
            {
                return $"shard {shard.Id}: field 'prefix.part' must be '{ShardPart}' and then '{HeldPart}' for the same 'prefix.layers' ({prefix.Part} {prefix.Layers}, {heldPrefix.Part} {heldPrefix.Layers})";
            }

            if (prefix.Layers <= previous || prefix.Layers > layers)
            {
                return $"shard {shard.Id}: field 'prefix.layers' is {prefix.Layers}; expected {previous + 1}..{layers}, prefixes in increasing length";
            }

            var last = manifest.Shards[prefix.Layers - 1];
            if (shard.Size + held.Size != last.Layer!.HeldBytesAfter)
            {
                return $"shard {shard.Id}: field 'size': the prefix of {prefix.Layers} layers is {shard.Size} + {held.Size} bytes; layer {prefix.Layers - 1} holds {last.Layer.HeldBytesAfter}";
            }

            foreach (var part in (ManifestShard[])[shard, held])
            {
                // Compared as signed (milli-bits), so every reader decides alike.
                if ((part.BitBudget, Security.ManifestCanonicalForm.MilliBits(part.BitsPerPixel), part.SampleCount)
                    != (last.BitBudget, Security.ManifestCanonicalForm.MilliBits(last.BitsPerPixel), last.SampleCount))
                {
                    return $"shard {part.Id}: fields 'bitBudget', 'bitsPerPixel' and 'sampleCount' must be those of layer {prefix.Layers - 1}";
                }
            }

            previous = prefix.Layers;
        }

        return null;
    }
}
