using System.Text.Json.Serialization;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// A layer file's place in its dataset (protocol versions 2 and 3): the increments of the dataset's order it carries and what
/// a device holds once it has applied it and every layer before it. The shard entry it belongs to gives the file's
/// name, size and SHA-256; its <c>bitBudget</c>, <c>bitsPerPixel</c> and <c>sampleCount</c> describe the held copy after
/// the layer (payload bits, mean bits per pixel over every source sample, samples stored).
/// </summary>
public sealed class ManifestLayer
{
    /// <summary>Position in the order of the layer's first increment.</summary>
    [JsonRequired]
    public int FirstIncrement { get; init; }

    [JsonRequired]
    public int IncrementCount { get; init; }

    /// <summary>Bytes on a device's flash after this layer: its shard and its held increments (docs/format.md §13).</summary>
    [JsonRequired]
    public long HeldBytesAfter { get; init; }

    /// <summary><c>ceil(size / chunkSize)</c>, stated so a reader checks it agrees with the chunk size.</summary>
    [JsonRequired]
    public int ChunkCount { get; init; }

    /// <summary>
    /// Rules a layered manifest keeps: layers 0..n−1 come first, in order, each with its layer fields; increments follow
    /// on from the layer before; held bytes grow with every layer; then, in formats 3 and 4, the prefixes
    /// (<see cref="ManifestPrefix"/>). No layer or prefix entry in a version-1 manifest.
    /// </summary>
    internal static string? Validate(DatasetManifest manifest)
    {
        if (!manifest.IsLayered)
        {
            return manifest.Shards.Exists(s => s.Layer is not null || s.Prefix is not null) ? "field 'layer' or 'prefix' appears in a format 1 manifest" : null;
        }

        if (manifest.Kind != DatasetManifest.ShardsKind)
        {
            return $"field 'manifest.kind' is '{manifest.Kind}'; a format {manifest.Format} manifest carries '{DatasetManifest.ShardsKind}'";
        }

        // The names the applied layers make on a device (docs/protocol.md §9): no file of the manifest may take them,
        // in any case (an SD card's FAT file system folds it).
        var held = new[] { manifest.Dataset + ".dqs", manifest.Dataset + ".dqh" };
        if (manifest.Shards.Find(s => held.Contains(s.Name, StringComparer.OrdinalIgnoreCase)) is { } clash)
        {
            return $"shard {clash.Id}: field 'name' is '{clash.Name}', the name of the copy a device holds";
        }

        var count = manifest.LayerCount;
        long increments = 0, heldBytes = 0;
        for (var i = 0; i < count; i++)
        {
            var shard = manifest.Shards[i];
            var layer = shard.Layer!;
            if (shard.Id != i || shard.Prefix is not null)
            {
                return $"shard {shard.Id}: fields 'id' and 'prefix': layers must be listed first, in order with ids 0..{count - 1} and no 'prefix' (position {i})";
            }

            if (layer.FirstIncrement != increments || layer.IncrementCount <= 0)
            {
                return $"layer {i}: field 'firstIncrement' is {layer.FirstIncrement} with {layer.IncrementCount} increments; expected {increments} and at least 1";
            }

            if (layer.HeldBytesAfter <= heldBytes)
            {
                return $"layer {i}: field 'heldBytesAfter' is {layer.HeldBytesAfter}, not above the {heldBytes} of the layer before";
            }

            if (layer.ChunkCount != shard.ChunkCount(manifest.ChunkSize))
            {
                return $"layer {i}: field 'chunkCount' is {layer.ChunkCount}; {shard.Size} bytes in chunks of {manifest.ChunkSize} make {shard.ChunkCount(manifest.ChunkSize)}";
            }

            increments += layer.IncrementCount;
            heldBytes = layer.HeldBytesAfter;
        }

        if (increments > int.MaxValue)
        {
            return "field 'layer.incrementCount': the layers carry more than 2^31 increments in all";
        }

        if (count < manifest.Shards.Count && manifest.Format == DatasetManifest.LayersFormat)
        {
            return $"shard {manifest.Shards[count].Id}: field 'layer' is missing in a format {DatasetManifest.LayersFormat} manifest";
        }

        if (count == 0)
        {
            return $"shard {manifest.Shards[0].Id}: field 'layer' is missing; a format {manifest.Format} manifest lists its layers first";
        }

        return manifest.HasPrefixes ? ManifestPrefix.Validate(manifest, count) : null;
    }

    /// <summary>How many of <paramref name="manifest"/>'s layers fit <paramref name="budgetBytes"/>: the longest prefix whose held bytes do.</summary>
    public static int LayersWithin(DatasetManifest manifest, long budgetBytes)
    {
        // Held bytes grow strictly from layer to layer (Validate): the first layer beyond the budget, by bisection.
        var (low, high) = (0, manifest.LayerCount);
        while (low < high)
        {
            var middle = low + ((high - low) / 2);
            if (manifest.Shards[middle].Layer!.HeldBytesAfter <= budgetBytes)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }
}
