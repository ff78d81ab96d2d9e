namespace DatasetQuant.Sync.Messages;

/// <summary>
/// A layer file's place in its dataset (protocol version 2): the increments of the dataset's order it carries and what
/// a device holds once it has applied it and every layer before it. The shard entry it belongs to gives the file's
/// name, size and SHA-256; its <c>bitBudget</c>, <c>bitsPerPixel</c> and <c>sampleCount</c> describe the held copy after
/// the layer (payload bits, mean bits per pixel over every source sample, samples stored).
/// </summary>
public sealed class ManifestLayer
{
    /// <summary>Position in the order of the layer's first increment.</summary>
    public int FirstIncrement { get; init; }

    public int IncrementCount { get; init; }

    /// <summary>Bytes on a device's flash after this layer: its shard and its held increments (docs/format.md §13).</summary>
    public long HeldBytesAfter { get; init; }

    /// <summary><c>ceil(size / chunkSize)</c>, stated so a reader checks it agrees with the chunk size.</summary>
    public int ChunkCount { get; init; }

    /// <summary>
    /// Rules a layered manifest keeps: shards are layers 0..n−1 in order, each with its layer fields; increments follow
    /// on from the layer before; held bytes grow with every layer; no layer entry in a version-1 manifest.
    /// </summary>
    internal static string? Validate(DatasetManifest manifest)
    {
        if (!manifest.IsLayered)
        {
            return manifest.Shards.Exists(s => s.Layer is not null) ? "field 'layer' appears in a format 1 manifest" : null;
        }

        if (manifest.Kind != DatasetManifest.ShardsKind)
        {
            return $"field 'manifest.kind' is '{manifest.Kind}'; a format {DatasetManifest.LayersFormat} manifest carries '{DatasetManifest.ShardsKind}'";
        }

        long increments = 0, held = 0;
        for (var i = 0; i < manifest.Shards.Count; i++)
        {
            var shard = manifest.Shards[i];
            if (shard.Layer is not { } layer)
            {
                return $"shard {shard.Id}: field 'layer' is missing in a format {DatasetManifest.LayersFormat} manifest";
            }

            if (shard.Id != i)
            {
                return $"shard {shard.Id}: layers must be listed in order with ids 0..{manifest.Shards.Count - 1} (position {i})";
            }

            if (layer.FirstIncrement != increments || layer.IncrementCount <= 0)
            {
                return $"layer {i}: field 'firstIncrement' is {layer.FirstIncrement} with {layer.IncrementCount} increments; expected {increments} and at least 1";
            }

            if (layer.HeldBytesAfter <= held)
            {
                return $"layer {i}: field 'heldBytesAfter' is {layer.HeldBytesAfter}, not above the {held} of the layer before";
            }

            if (layer.ChunkCount != shard.ChunkCount(manifest.ChunkSize))
            {
                return $"layer {i}: field 'chunkCount' is {layer.ChunkCount}; {shard.Size} bytes in chunks of {manifest.ChunkSize} make {shard.ChunkCount(manifest.ChunkSize)}";
            }

            increments += layer.IncrementCount;
            held = layer.HeldBytesAfter;
        }

        return increments > int.MaxValue ? "the layers carry more than 2^31 increments" : null;
    }

    /// <summary>How many of <paramref name="manifest"/>'s layers fit <paramref name="budgetBytes"/>: the longest prefix whose held bytes do.</summary>
    public static int LayersWithin(DatasetManifest manifest, long budgetBytes)
    {
        var count = 0;
        while (count < manifest.Shards.Count && manifest.Shards[count].Layer!.HeldBytesAfter <= budgetBytes)
        {
            count++;
        }

        return count;
    }
}
