using System.Globalization;
using System.Text;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Security;

/// <summary>
/// The bytes a manifest signature covers: ASCII lines, each ending in LF, independent of how the JSON was written.
/// Names are restricted to <c>[A-Za-z0-9._-]</c>, so nothing needs escaping. docs/protocol.md, "Signing".
/// <code>
/// dq-manifest/1
/// fleet:{fleet}
/// dataset:{dataset}
/// kind:{kind}   (only when it is not "shards")
/// version:{version}
/// chunk-size:{chunkSize}
/// created:{createdUnixSeconds}
/// shards:{count}
/// shard:{id}:{name}:{size}:{sha256}:{bitBudget}:{round(bitsPerPixel*1000)}:{sampleCount}   (one per shard, in manifest order)
/// </code>
/// A format 2 (layers) manifest starts with <c>dq-manifest/2</c> and adds to each shard line
/// <c>:{firstIncrement}:{incrementCount}:{heldBytesAfter}:{chunkCount}</c>, so a device that knows only format 1
/// fails to verify it instead of taking its layer files for shards. A format 3 manifest starts with
/// <c>dq-manifest/3</c>; its layer lines are format 2's, and each prefix line adds <c>:prefix:{layers}:{part}</c>. A
/// format 4 manifest starts with <c>dq-manifest/4</c> and is otherwise format 3's: its held sizes count other files, so
/// a device that knows only format 3 must not verify it. A format 5 manifest (a planes set) starts with
/// <c>dq-manifest/5</c> and is otherwise format 4's: its layers are of a version a format 4 device cannot apply. A
/// format 6 manifest starts with <c>dq-manifest/6</c> and is otherwise format 4's (or 5's, for planes): its held sizes
/// count held increments version 4.
/// </summary>
public static class ManifestCanonicalForm
{
    public const string Header = "dq-manifest/1";

    public const string LayersHeader = "dq-manifest/2";

    public const string PrefixesHeader = "dq-manifest/3";

    public const string CompactHeldHeader = "dq-manifest/4";

    public const string PlanesHeader = "dq-manifest/5";

    public const string GapHeldHeader = "dq-manifest/6";

    public static byte[] GetBytes(DatasetManifest manifest)
    {
        var text = new StringBuilder(128 + (manifest.Shards.Count * 140));
        Line(text, manifest.Format switch
        {
            DatasetManifest.LayersFormat => LayersHeader,
            DatasetManifest.PrefixesFormat => PrefixesHeader,
            DatasetManifest.CompactHeldFormat => CompactHeldHeader,
            DatasetManifest.PlanesFormat => PlanesHeader,
            DatasetManifest.GapHeldFormat => GapHeldHeader,
            _ => Header,
        });
        Line(text, $"fleet:{manifest.Fleet}");
        Line(text, $"dataset:{manifest.Dataset}");
        if (manifest.Kind != DatasetManifest.ShardsKind)
        {
            // Only non-default kinds add a line, so manifests signed before kinds existed still verify.
            Line(text, $"kind:{manifest.Kind}");
        }

        Line(text, Invariant($"version:{manifest.Version}"));
        Line(text, Invariant($"chunk-size:{manifest.ChunkSize}"));
        Line(text, Invariant($"created:{manifest.CreatedUnixSeconds}"));
        Line(text, Invariant($"shards:{manifest.Shards.Count}"));
        foreach (var shard in manifest.Shards)
        {
            var line = Invariant($"shard:{shard.Id}:{shard.Name}:{shard.Size}:{shard.Sha256}:{shard.BitBudget}:{MilliBits(shard.BitsPerPixel)}:{shard.SampleCount}");
            if (manifest.IsLayered && shard.Layer is { } layer)
            {
                line += Invariant($":{layer.FirstIncrement}:{layer.IncrementCount}:{layer.HeldBytesAfter}:{layer.ChunkCount}");
            }
            else if (manifest.HasPrefixes && shard.Prefix is { } prefix)
            {
                line += Invariant($":prefix:{prefix.Layers}:{prefix.Part}");
            }

            Line(text, line);
        }

        return Encoding.ASCII.GetBytes(text.ToString());
    }

    /// <summary>Bits per pixel as the signed integer count of milli-bits (half away from zero).</summary>
    public static long MilliBits(double bitsPerPixel) => (long)Math.Round(bitsPerPixel * 1000, MidpointRounding.AwayFromZero);

    private static string Invariant(FormattableString value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');
}
