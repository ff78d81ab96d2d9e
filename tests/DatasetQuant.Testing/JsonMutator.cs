using System.Text;
using System.Text.Json.Nodes;

namespace DatasetQuant.Testing;

/// <summary>
/// Seeded mutations of a JSON message, the ways a peer's bug or malice can bend one: a property dropped or written
/// twice, a value of another type, numbers at and past every boundary, NaN as a string, very long strings, bad names,
/// deep nesting, an array stuffed with thousands of tiny elements, truncation, invalid UTF-8, flipped bits. Each
/// mutant carries a description, so a failure names what was done.
/// </summary>
public sealed class JsonMutator(Random random)
{
    private const string Marker = "@@mutant@@";

    private static readonly string[] Numbers =
    [
        "0", "1", "-1", "2147483647", "2147483648", "-2147483648", "-2147483649", "4294967296", "9223372036854775807",
        "9223372036854775808", "-9223372036854775808", "-9223372036854775809", "99999999999999999999999", "68719476736", "68719476737",
        "1023", "1024", "131072", "131073", "65536", "65537", "64", "65", "1.5", "-0", "1e3", "1e308", "1e309", "-1e309", "5e-324", "0.0005",
    ];

    private static readonly string[] OtherTypes = ["\"x\"", "\"1\"", "0", "1.5", "true", "false", "null", "{}", "[]", "[null]", "{\"a\":1}"];

    private static readonly string[] NotANumber = ["\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "NaN", "Infinity", "-Infinity", "0x10", "01", "+1", ".5", "1.", "1e"];

    private static readonly string[] Dates = ["\"9999-12-31T23:59:59+00:00\"", "\"0001-01-01T00:00:00+00:00\"", "\"2026-13-01T00:00:00Z\"", "\"2099-01-01T00:00:00+14:00\""];

    private static readonly string[] BadNames =
    [
        "\"\"", "\".hidden\"", "\"../etc\"", "\"a/b\"", "\"+\"", "\"#\"", "\"dq/v1/lab\"", "\"" + new string('n', 64) + "\"", "\"" + new string('n', 65) + "\"",
        "\"\\u00e9t\\u00e9\"", "\"a\\u0000b\"", "\"fmnist.dqs\"", "\"FMNIST.DQH\"", "\" fmnist\"", "\"G.json\"",
    ];

    /// <summary>A mutant of <paramref name="json"/>: one to three mutations, each on what the previous one left.</summary>
    public (byte[] Bytes, string Description) Mutate(byte[] json)
    {
        var count = random.Next(1, 4);
        var descriptions = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var (next, description) = MutateOnce(json);
            json = next;
            descriptions.Add(description);
        }

        return (json, string.Join("; then ", descriptions));
    }

    private (byte[] Bytes, string Description) MutateOnce(byte[] json)
    {
        if (json.Length > 64 << 10)
        {
            // Already stuffed: parsing it again for every later mutation would cost more than it finds.
            return MutateBytes(json);
        }

        JsonNode? root = null;
        var nodes = new List<(JsonNode? Node, JsonNode Parent, string? Key, int Index, string Path)>();
        try
        {
            root = JsonNode.Parse(json);
            if (root is not null)
            {
                Collect(root, "$", nodes);
            }
        }
        catch (Exception ex) when (ex is System.Text.Json.JsonException or ArgumentException or InvalidOperationException)
        {
            // Text already broken (a property twice, invalid UTF-8, ...): only byte-level mutations apply.
            root = null;
        }

        if (root is null || nodes.Count == 0 || random.Next(5) == 0)
        {
            return MutateBytes(json);
        }

        try
        {
            return MutateNode(root, nodes);
        }
        catch (InvalidOperationException)
        {
            // A string the earlier mutation left unencodable (a lone surrogate): mutate the bytes instead.
            return MutateBytes(json);
        }
    }

    private (byte[] Bytes, string Description) MutateNode(JsonNode root, List<(JsonNode? Node, JsonNode Parent, string? Key, int Index, string Path)> nodes)
    {
        var (node, parent, key, index, path) = nodes[random.Next(nodes.Count)];
        var kind = node?.GetValueKind();
        switch (random.Next(10))
        {
            case 0:
                Remove(parent, key, index);
                return (Encode(root), $"dropped {path}");
            case 1 when key is not null:
                // Written twice with another value: the last one wins in System.Text.Json and in Python's json.
                ((JsonObject)parent)[Marker] = node?.DeepClone();
                var text = Serialize(root).Replace($"\"{Marker}\"", $"\"{key}\"", StringComparison.Ordinal);
                return (Encoding.UTF8.GetBytes(text), $"duplicated {path}");
            case 2:
                return Replace(root, parent, key, index, Pick(OtherTypes), path, "type changed");
            case 3:
                return Replace(root, parent, key, index, Pick(Numbers), path, "number");
            case 4 when kind == System.Text.Json.JsonValueKind.Number:
                var number = node!.ToJsonString();
                return Replace(root, parent, key, index, number.StartsWith('-') ? number[1..] : "-" + number, path, "negated");
            case 5:
                return Replace(root, parent, key, index, Pick(NotANumber), path, "not a number");
            case 6:
                var length = Pick([65, 1000, 100_000]);
                return Replace(root, parent, key, index, "\"" + new string((char)('a' + random.Next(6)), length) + "\"", path, $"string of {length}");
            case 7 when random.Next(3) == 0:
                return Replace(root, parent, key, index, Pick(Dates), path, "date");
            case 7:
                return Replace(root, parent, key, index, Pick(BadNames), path, "name");
            case 8:
                var depth = Pick([17, 64, 1000, 10_000]);
                var (open, close) = random.Next(2) == 0 ? ("[", "]") : ("{\"a\":", "}");
                return Replace(root, parent, key, index, Repeat(open, depth) + "1" + Repeat(close, depth), path, $"nested {depth} deep");
            case 9 when node is JsonObject && random.Next(2) == 0:
                // Distinct short keys: what a map (the state report's metrics) keeps, and what a typed object skips.
                var keys = Pick([100, 70_000]);
                var members = string.Join(",", Enumerable.Range(0, keys).Select(k => $"\"{k:x}\":{k % 10}"));
                return Replace(root, parent, key, index, "{" + members + "}", path, $"object of {keys} properties");
            default:
                return Stuff(root, nodes, path);
        }
    }

    /// <summary>An array (the first one found from the chosen place on) filled with many copies of a tiny or real element.</summary>
    private (byte[] Bytes, string Description) Stuff(JsonNode root, List<(JsonNode? Node, JsonNode Parent, string? Key, int Index, string Path)> nodes, string path)
    {
        var arrays = nodes.Where(n => n.Node is JsonArray).ToList();
        if (arrays.Count == 0)
        {
            return Replace(root, nodes[0].Parent, nodes[0].Key, nodes[0].Index, "[" + string.Join(",", Enumerable.Repeat("{}", 10_000)) + "]", path, "stuffed");
        }

        var (array, parent, key, index, arrayPath) = arrays[random.Next(arrays.Count)];
        var first = ((JsonArray)array!).FirstOrDefault()?.ToJsonString() ?? "{}";
        var element = Pick(["{}", "null", "0", "[]", first]);
        var count = Math.Min(Pick([2, 100, 65_537, 70_000]), (1 << 20) / (element.Length + 1));
        return Replace(root, parent, key, index, "[" + string.Join(",", Enumerable.Repeat(element, count)) + "]", arrayPath, $"stuffed with {count} × {Truncated(element)}");
    }

    private (byte[] Bytes, string Description) MutateBytes(byte[] json)
    {
        var position = json.Length == 0 ? 0 : random.Next(json.Length);
        switch (random.Next(7))
        {
            case 0:
                return (json[..position], $"truncated at {position}");
            case 1:
                var invalid = Pick<byte[]>([[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xE2, 0x82], [0x80]]);
                return (Insert(json, AfterQuote(json, position), invalid), $"invalid UTF-8 {Convert.ToHexString(invalid)}");
            case 2:
                var flipped = json.ToArray();
                if (flipped.Length > 0)
                {
                    flipped[position] ^= (byte)(1 << random.Next(8));
                }

                return (flipped, $"bit flipped at {position}");
            case 3:
                return (Insert(json, AfterQuote(json, position), "\\ud800"u8.ToArray()), "lone surrogate escape");
            case 4:
                return ([0xEF, 0xBB, 0xBF, .. json], "byte order mark");
            case 5:
                var tail = Pick(["x", "{}", ",", "\0", "/* c */", "   \n"]);
                return ([.. json, .. Encoding.UTF8.GetBytes(tail)], $"trailing '{Truncated(tail)}'");
            default:
                return (json.Length == 0 ? [] : json[..^1], "last byte cut");
        }
    }

    private (byte[] Bytes, string Description) Replace(JsonNode root, JsonNode parent, string? key, int index, string raw, string path, string what)
    {
        if (key is not null)
        {
            ((JsonObject)parent)[key] = Marker;
        }
        else
        {
            ((JsonArray)parent)[index] = Marker;
        }

        var text = Serialize(root).Replace($"\"{Marker}\"", raw, StringComparison.Ordinal);
        return (Encoding.UTF8.GetBytes(text), $"{what} at {path}: {Truncated(raw)}");
    }

    private static void Remove(JsonNode parent, string? key, int index)
    {
        if (key is not null)
        {
            ((JsonObject)parent).Remove(key);
        }
        else
        {
            ((JsonArray)parent).RemoveAt(index);
        }
    }

    private static void Collect(JsonNode node, string path, List<(JsonNode? Node, JsonNode Parent, string? Key, int Index, string Path)> nodes)
    {
        if (node is JsonObject obj)
        {
            foreach (var (key, value) in obj.ToList())
            {
                var child = $"{path}.{key}";
                nodes.Add((value, obj, key, -1, child));
                if (value is not null)
                {
                    Collect(value, child, nodes);
                }
            }
        }
        else if (node is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                var child = $"{path}[{i}]";
                nodes.Add((array[i], array, null, i, child));
                if (array[i] is { } value)
                {
                    Collect(value, child, nodes);
                }
            }
        }
    }

    private static int AfterQuote(byte[] json, int from)
    {
        var quote = Array.IndexOf(json, (byte)'"', Math.Min(from, Math.Max(0, json.Length - 1)));
        return quote < 0 ? from : quote + 1;
    }

    private static byte[] Insert(byte[] json, int at, byte[] bytes) => [.. json.AsSpan(0, at), .. bytes, .. json.AsSpan(at)];

    private static string Serialize(JsonNode root) => root.ToJsonString();

    private static byte[] Encode(JsonNode root) => Encoding.UTF8.GetBytes(Serialize(root));

    private static string Repeat(string text, int count) => new StringBuilder(text.Length * count).Insert(0, text, count).ToString();

    private static string Truncated(string text) => text.Length <= 40 ? text : $"{text[..20]}…({text.Length} chars)";

    private T Pick<T>(T[] choices) => choices[random.Next(choices.Length)];
}
