using System.Text.Json;
using System.Text.Json.Nodes;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Seeded mutations of a manifest's meaning rather than its bytes, each a value of the right JSON type, so that the
/// mutant, signed again with the pinned key, reaches the device's checks behind the signature: sizes, chunk counts and
/// held sizes that do not add up, negative and huge numbers, layer indices duplicated, missing or out of order,
/// prefixes naming layers that do not exist, names that collide (also without case, or with the device's own files),
/// other formats, kinds, versions, fleets and datasets.
/// </summary>
internal sealed class ManifestMutator(Random random)
{
    private static readonly long[] Sizes = [0, -1, 1, 1023, 1024, 1025, 16384, 16385, 131072, 1L << 36, (1L << 36) + 1, long.MaxValue];

    private static readonly int[] Ints = [0, -1, 1, 2, int.MaxValue, int.MinValue];

    public (DatasetManifest Manifest, string Description) Mutate(DatasetManifest manifest)
    {
        var node = JsonSerializer.SerializeToNode(manifest, SyncJsonContext.Default.DatasetManifest)!.AsObject();
        var count = random.Next(1, 4);
        var descriptions = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            descriptions.Add(MutateOnce(node));
        }

        return (node.Deserialize(SyncJsonContext.Default.DatasetManifest)!, string.Join("; ", descriptions));
    }

    private string MutateOnce(JsonObject manifest)
    {
        var shards = manifest["shards"]!.AsArray();
        if (shards.Count == 0)
        {
            manifest["version"] = manifest["version"]!.GetValue<long>() + 1;
            return "version raised";
        }

        var at = random.Next(shards.Count);
        var entry = shards[at]!.AsObject();
        var other = shards[random.Next(shards.Count)]!.AsObject();
        var layer = entry["layer"] as JsonObject;
        var prefix = entry["prefix"] as JsonObject;
        var chunkSize = manifest["chunkSize"]!.GetValue<int>();
        long Long(JsonObject o, string key) => o[key]!.GetValue<long>();
        switch (random.Next(20))
        {
            case 0:
                var size = Pick([.. Sizes, Long(entry, "size") + 1, Long(entry, "size") - 1, Long(entry, "size") * 2]);
                entry["size"] = size;
                if (layer is not null && size > 0 && random.Next(2) == 0)
                {
                    // Agreeing with the new size, so the size itself is what is checked.
                    layer["chunkCount"] = (int)Math.Min(int.MaxValue, (size + chunkSize - 1) / chunkSize);
                }

                return $"shard {at}: size {size}";
            case 1 when layer is not null:
                var field = Pick(["chunkCount", "firstIncrement", "incrementCount"]);
                var value = Pick([.. Ints, layer[field]!.GetValue<int>() + 1, layer[field]!.GetValue<int>() - 1]);
                layer[field] = value;
                return $"layer {at}: {field} {value}";
            case 2 when layer is not null:
                var previous = at == 0 ? 0 : shards[at - 1]!["layer"]?["heldBytesAfter"]?.GetValue<long>() ?? 0;
                var held = Pick([0, -1, previous, previous - 1, long.MaxValue, 1L << 62, Long(layer, "heldBytesAfter") + 1]);
                layer["heldBytesAfter"] = held;
                return $"layer {at}: heldBytesAfter {held}";
            case 3:
                var newChunkSize = Pick([0, -1, 1023, 1024, 2048, 131072, 131073]);
                manifest["chunkSize"] = newChunkSize;
                return $"chunkSize {newChunkSize}";
            case 4:
                var id = Pick([.. Ints, other["id"]!.GetValue<int>(), shards.Count, shards.Count + 5]);
                entry["id"] = id;
                return $"shard {at}: id {id}";
            case 5:
                var (from, to) = (at, random.Next(shards.Count));
                (shards[from], shards[to]) = (shards[to]!.DeepClone(), shards[from]!.DeepClone());
                return $"entries {from} and {to} swapped";
            case 6:
                shards.RemoveAt(at);
                return $"entry {at} removed";
            case 7:
                shards.Insert(random.Next(shards.Count + 1), entry.DeepClone());
                return $"entry {at} listed twice";
            case 8 when prefix is not null:
                var layers = Pick([.. Ints, prefix["layers"]!.GetValue<int>() + 1, prefix["layers"]!.GetValue<int>() - 1, manifest["shards"]!.AsArray().Count]);
                prefix["layers"] = layers;
                return $"prefix {at}: layers {layers}";
            case 9 when prefix is not null:
                var part = Pick(["shard", "held", "x", ""]);
                prefix["part"] = part;
                return $"prefix {at}: part '{part}'";
            case 10:
                return Reshape(entry, other, at);
            case 11:
                var format = Pick([0, 1, 2, 3, 4, 5, -1, int.MaxValue]);
                manifest["format"] = format;
                return $"format {format}";
            case 12:
                var kind = Pick(["shards", "generator", "x", ""]);
                manifest["kind"] = kind;
                return $"kind '{kind}'";
            case 13:
                var version = Pick([Long(manifest, "version") - 1, Long(manifest, "version") + 1, 0, -1, long.MaxValue]);
                manifest["version"] = version;
                return $"version {version}";
            case 14:
                var (key, name) = random.Next(2) == 0 ? ("fleet", Pick(["lab2", ".lab", "", "LAB"])) : ("dataset", Pick(["other", "keep", "a/b", "x" + manifest["dataset"]]));
                manifest[key] = name;
                return $"{key} '{name}'";
            case 15:
                var sibling = other["name"]!.GetValue<string>();
                var dataset = manifest["dataset"]!.GetValue<string>();
                var newName = Pick(
                [
                    sibling, sibling.ToUpperInvariant(), sibling + ".partial", sibling + ".chunks", sibling + ".requant.tmp", dataset + ".dqs", dataset.ToUpperInvariant() + ".DQH",
                    "sync-state.json", new string('n', 64), new string('n', 65), ".x",
                ]);
                entry["name"] = newName;
                return $"shard {at}: name '{newName}'";
            case 16:
                var sha = entry["sha256"]!.GetValue<string>();
                var newSha = Pick([sha.ToUpperInvariant(), sha[1..], new string('g', 64), other["sha256"]!.GetValue<string>(), sha + "0"]);
                entry["sha256"] = newSha;
                return $"shard {at}: sha256 {newSha}";
            case 17:
                return Figures(entry, at);
            case 18 when PairOf(shards, at, prefix) is { } pair:
                // Sizes that still add up to the held size, but with an empty part.
                var total = Long(entry, "size") + Long(pair, "size");
                entry["size"] = total;
                pair["size"] = 0;
                return $"prefix {at}: all {total} bytes in one part";
            default:
                var created = Pick([-1, long.MaxValue, long.MinValue]);
                manifest["createdUnixSeconds"] = created;
                return $"created {created}";
        }
    }

    /// <summary>The other entry of a prefix: after its shard part, before its held part.</summary>
    private static JsonObject? PairOf(JsonArray shards, int at, JsonObject? prefix)
    {
        var pairAt = prefix?["part"]?.GetValue<string>() == "shard" ? at + 1 : at - 1;
        return prefix is not null && pairAt >= 0 && pairAt < shards.Count ? shards[pairAt] as JsonObject : null;
    }

    /// <summary>Moves the layer and prefix objects about: a layer without one, a prefix with a layer's, a layer with a prefix's.</summary>
    private string Reshape(JsonObject entry, JsonObject other, int at)
    {
        switch (random.Next(3))
        {
            case 0:
                entry.Remove("layer");
                entry.Remove("prefix");
                return $"entry {at}: no layer or prefix";
            case 1:
                entry["layer"] = (other["layer"] ?? JsonNode.Parse("""{"firstIncrement":0,"incrementCount":1,"heldBytesAfter":1,"chunkCount":1}"""))!.DeepClone();
                return $"entry {at}: a layer object";
            default:
                entry["prefix"] = (other["prefix"] ?? JsonNode.Parse("""{"layers":1,"part":"shard"}"""))!.DeepClone();
                return $"entry {at}: a prefix object";
        }
    }

    private string Figures(JsonObject entry, int at)
    {
        var field = Pick(["bitBudget", "sampleCount", "bitsPerPixel"]);
        if (field == "bitsPerPixel")
        {
            var bits = Pick([-0.001, 64, 64.001, 1e300, 0.0004, 0.0005, double.Epsilon]);
            entry[field] = bits;
            return $"shard {at}: bitsPerPixel {bits}";
        }

        var value = Pick([-1, long.MaxValue, 0]);
        entry[field] = value;
        return $"shard {at}: {field} {value}";
    }

    private T Pick<T>(T[] choices) => choices[random.Next(choices.Length)];
}
