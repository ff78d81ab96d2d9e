using System.Text.Json.Serialization;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Messages;

/// <summary>
/// What a dataset version is: its shards with size, SHA-256, bit budget and sample count. Everything here is covered
/// by the signature (see <see cref="Security.ManifestCanonicalForm"/>); the device trusts nothing that is not. In
/// <see cref="LayersFormat"/> the shards are the layer files of one embedded-code dataset, each with its
/// <see cref="ManifestShard.Layer"/> (docs/protocol.md §7).
/// </summary>
public sealed class DatasetManifest
{
    /// <summary>Protocol version 1: whole shards, every device takes all of them.</summary>
    public const int ShardsFormat = 1;

    /// <summary>Protocol version 2: the layers of an embedded-code dataset; a device takes the prefix its budget holds.</summary>
    public const int LayersFormat = 2;

    /// <summary>Protocol version 3: layers as in version 2, then prefixes of them served whole (<see cref="ManifestPrefix"/>).</summary>
    public const int PrefixesFormat = 3;

    /// <summary>
    /// Protocol version 4: as version 3 (with none or more prefixes), the held sizes counting held increments version 3,
    /// which leave out each sample's last width step (docs/format.md §13).
    /// </summary>
    public const int CompactHeldFormat = 4;

    /// <summary>
    /// Protocol version 5: as version 4, for a set coded as range-coded bit planes (docs/format.md §14): its layers are
    /// version 4 (plane segments) and its shards and prefixes codec 2. Fixed-width sets are published in 2–4.
    /// </summary>
    public const int PlanesFormat = 5;

    /// <summary>
    /// Protocol version 6: as version 4 for a fixed-width set and 5 for a planes set, the held sizes counting held
    /// increments version 4, each sample's layer gaps Rice-coded, and a planes set's layers of version 5, their entries
    /// behind a directory of Rice codes (docs/format.md §13): what either set is published in by default.
    /// </summary>
    public const int GapHeldFormat = 6;

    /// <summary>The newest format this build writes and reads.</summary>
    public const int LatestFormat = GapHeldFormat;

    public const int MaxShards = 65_536;

    public const string ShardsKind = "shards";

    public const string GeneratorKind = "generator";

    /// <summary>Endings of the files a device writes beside a shard while it fetches or shrinks it, which no entry may have.</summary>
    public static readonly string[] WorkingFileSuffixes = [".partial", ".chunks", ".tmp"];

    private static bool IsWorkingFileName(string name)
    {
        foreach (var suffix in WorkingFileSuffixes)
        {
            if (name.EndsWith(suffix, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>64 GiB: larger shards are refused before anything is allocated for them.</summary>
    public const long MaxShardSize = 64L << 30;

    /// <summary>The manifest's protocol version: <see cref="ShardsFormat"/> to <see cref="LatestFormat"/>.</summary>
    public int Format { get; init; } = ShardsFormat;

    [JsonRequired]
    public string Fleet { get; init; } = "";

    [JsonRequired]
    public string Dataset { get; init; } = "";

    /// <summary><see cref="ShardsKind"/> for quantized shards; <see cref="GeneratorKind"/> for a DiM generator
    /// (its .onnx and .json files), which the device keeps whole and samples for fine-tuning.</summary>
    public string Kind { get; init; } = ShardsKind;

    /// <summary>Per dataset, only goes up; a device never takes a version below the one it holds.</summary>
    [JsonRequired]
    public long Version { get; init; }

    [JsonRequired]
    public int ChunkSize { get; init; } = ChunkFrameConstants.MaxPayload;

    /// <summary>Seconds since 1970-01-01 UTC when the coordinator built the manifest.</summary>
    [JsonRequired]
    public long CreatedUnixSeconds { get; init; }

    [JsonRequired]
    public List<ManifestShard> Shards { get; init; } = [];

    [JsonIgnore]
    public long TotalBytes
    {
        get
        {
            long total = 0;
            foreach (var shard in Shards)
            {
                total += shard.Size;
            }

            return total;
        }
    }

    [JsonIgnore]
    public bool IsGenerator => Kind == GeneratorKind;

    /// <summary>Layers (format 2, or formats 3 to 6 with their prefixes after them).</summary>
    [JsonIgnore]
    public bool IsLayered => Format is >= LayersFormat and <= LatestFormat;

    /// <summary>Whether prefixes may follow the layers (formats 3 to 6).</summary>
    [JsonIgnore]
    public bool HasPrefixes => Format is >= PrefixesFormat and <= LatestFormat;

    /// <summary>The held-increments version the layers' held sizes count, which a device holding them writes (<see cref="HeldIncrementsVersionOf"/>).</summary>
    [JsonIgnore]
    public int HeldIncrementsVersion => HeldIncrementsVersionOf(Format);

    /// <summary>The layer entries, which come first: all shards in format 2, those before the prefixes from format 3 on.</summary>
    [JsonIgnore]
    public int LayerCount => _layerCount ??= CountLayers();

    private int? _layerCount;

    /// <summary>
    /// What the dataset occupies on a device that holds all of it: the shards' total, or for layers the held bytes after
    /// the last one (its single shard and held increments; the layer files are deleted once applied).
    /// </summary>
    [JsonIgnore]
    public long FullHeldBytes => IsLayered && LayerCount > 0 ? Shards[LayerCount - 1].Layer!.HeldBytesAfter : TotalBytes;

    /// <summary>The size of layers <paramref name="from"/>..<paramref name="to"/>−1 together (sums kept once per manifest).</summary>
    public long LayerBytes(int from, int to)
    {
        var sums = _layerSums ??= SumLayers();
        return sums[to] - sums[from];
    }

    private long[]? _layerSums;

    private long[] SumLayers()
    {
        var sums = new long[LayerCount + 1];
        for (var i = 0; i < LayerCount; i++)
        {
            sums[i + 1] = sums[i] + Shards[i].Size;
        }

        return sums;
    }

    private int CountLayers()
    {
        var count = 0;
        while (IsLayered && count < Shards.Count && Shards[count].Layer is not null)
        {
            count++;
        }

        return count;
    }

    /// <summary>The held-increments version a layered manifest of <paramref name="format"/> counts: 4 from format 6 on, 3 in formats 4 and 5, else 2.</summary>
    public static int HeldIncrementsVersionOf(int format) => format >= GapHeldFormat ? 4 : format >= CompactHeldFormat ? 3 : 2;

    /// <summary>The layer version of a planes set published in <paramref name="format"/>: 5 from format 6 on, else 4.</summary>
    public static int PlanesLayerVersionOf(int format) => format >= GapHeldFormat ? Core.Progressive.LayerFile.DirectoryPlanesVersion : Core.Progressive.LayerFile.PlanesVersion;

    public ManifestShard? FindShard(int id)
    {
        foreach (var shard in Shards)
        {
            if (shard.Id == id)
            {
                return shard;
            }
        }

        return null;
    }

    public string? Validate()
    {
        if (Format is < ShardsFormat or > LatestFormat)
        {
            // Named first and alone: a device logs it and keeps what it holds (docs/protocol.md §7, "Versions").
            return $"field 'manifest.format': dataset '{Dataset}' version {Version}: manifest format {Format} is not supported (this device reads formats {ShardsFormat} to {LatestFormat})";
        }

        var error = MessageRules.Name(Fleet, "manifest.fleet")
            ?? MessageRules.Name(Dataset, "manifest.dataset")
            ?? (Kind is ShardsKind or GeneratorKind ? null : $"field 'manifest.kind' is '{Kind}', expected '{ShardsKind}' or '{GeneratorKind}'")
            ?? (Version > 0 ? null : $"field 'manifest.version' must be at least 1 ({Version})")
            ?? (ChunkSize is >= ChunkFrameConstants.MinChunkSize and <= ChunkFrameConstants.MaxPayload
                ? null
                : $"field 'manifest.chunkSize' is {ChunkSize}, expected {ChunkFrameConstants.MinChunkSize}..{ChunkFrameConstants.MaxPayload}");
        if (error is not null)
        {
            return error;
        }

        if (Shards is null || Shards.Count == 0 || Shards.Count > MaxShards)
        {
            return $"field 'manifest.shards' must list 1..{MaxShards} shards";
        }

        var ids = new HashSet<int>();
        // Without case: on a memory card's FAT file system "a.dqs" and "A.DQS" are one file.
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var shard in Shards)
        {
            if (shard is null)
            {
                return "field 'manifest.shards' has a null entry";
            }

            error = shard.Validate();
            if (error is not null)
            {
                return $"shard {shard.Id}: {error}";
            }

            if (!ids.Add(shard.Id))
            {
                return $"shard {shard.Id}: field 'id' is {shard.Id} in two entries";
            }

            if (!names.Add(shard.Name))
            {
                return $"shard {shard.Id}: field 'name' is '{shard.Name}' in two entries (compared without case)";
            }

            if (IsWorkingFileName(shard.Name))
            {
                // Beside a shard the device writes {name}.partial, {name}.chunks and {name}.requant.tmp (docs/protocol.md
                // §9): an entry of such a name would overwrite another entry's working file, or be overwritten by it.
                return $"shard {shard.Id}: field 'name' is '{shard.Name}'; names ending in {string.Join(", ", WorkingFileSuffixes)} are the device's working files";
            }
        }

        return ManifestLayer.Validate(this);
    }
}

/// <summary>
/// <c>datasets/{name}/manifest</c>, retained: the manifest, the signature over its canonical form (ECDSA P-256 over
/// SHA-256, IEEE P1363 r‖s, base64) and the signing key's id (first 8 bytes of SHA-256 of its SubjectPublicKeyInfo, hex).
/// </summary>
public sealed class SignedManifestMessage : ISyncMessage
{
    [JsonRequired]
    public int Schema { get; init; } = SyncSchema.Current;

    [JsonRequired]
    public DatasetManifest Manifest { get; init; } = new();

    public string KeyId { get; init; } = "";

    [JsonRequired]
    public string Signature { get; init; } = "";

    public string? Validate() =>
        MessageRules.Schema(Schema)
        ?? (Manifest is null ? "field 'manifest' is missing" : Manifest.Validate())
        ?? (string.IsNullOrEmpty(Signature) ? "field 'signature' is missing" : null);
}
