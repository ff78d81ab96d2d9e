using System.Globalization;
using System.Security.Cryptography;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Builds the (unsigned) layered manifest of a directory written by <c>dq quantize --codes embedded</c>: its shards and
/// increment order (<c>{prefix}.dqo</c>) are cut into layers (<see cref="LayerBuilder"/>, docs/format.md §13) written to
/// <c>{directory}/layers/v{version}/</c>, and every layer becomes a manifest entry with its place in the order and the
/// bytes a device holds after it. The layer files are what devices fetch and what repairs are served from. Given the
/// fleet's budgets, layers also end at each, and from protocol version 3 on the copy a device holds there is written
/// beside them as a prefix served whole (<see cref="LayerPrefixes"/>). Version 4 (the default) counts held sizes with
/// held increments version 3; versions 2 and 3 are for fleets whose devices are older, with version 2's held increments,
/// and a version 3 publish that serves no prefix is version 2.
/// </summary>
public static class LayeredManifestBuilder
{
    public const string LayerDirectoryName = "layers";

    /// <summary>True when <paramref name="shardDirectory"/> holds an increment order, i.e. was written with embedded codes.</summary>
    public static bool HasOrder(string shardDirectory) => FindOrder(shardDirectory) is not null;

    /// <summary>
    /// Where the layers of version <paramref name="version"/> of <paramref name="shardDirectory"/> are written (and
    /// served from): a folder per version, since where layers end depends on the fleet's budgets at the publish, and a
    /// publish must not change the files of a version devices are still pulling.
    /// </summary>
    public static string LayerDirectory(string shardDirectory, long version) =>
        Path.Combine(Path.GetFullPath(shardDirectory), LayerDirectoryName, string.Create(CultureInfo.InvariantCulture, $"v{version}"));

    /// <summary>
    /// A private folder to build version <paramref name="version"/>'s layers in before the version is claimed: a
    /// publisher that loses the race for a version must not touch the folder the winner's signed manifest names.
    /// </summary>
    public static string StagingDirectory(string shardDirectory, long version) =>
        Path.Combine(Path.GetFullPath(shardDirectory), LayerDirectoryName, string.Create(CultureInfo.InvariantCulture, $".v{version}-{Guid.NewGuid():N}"));

    /// <summary>
    /// Moves layers built in <paramref name="staging"/> to version <paramref name="version"/>'s folder, once the version
    /// is the caller's: a folder already there belongs to an attempt that never got the version, and is replaced.
    /// </summary>
    public static void PlaceLayers(string staging, string shardDirectory, long version)
    {
        var final = LayerDirectory(shardDirectory, version);
        if (Directory.Exists(final))
        {
            Directory.Delete(final, recursive: true);
        }

        Directory.Move(staging, final);
        Core.IO.AtomicFileWriter.SyncDirectory(Path.GetDirectoryName(final)!);
    }

    /// <summary>
    /// Deletes the layers of every version of <paramref name="shardDirectory"/> but <paramref name="version"/> and the
    /// newest one before it (still served while devices move over). The flat <c>layers/*.dql</c> of a publish before
    /// versions had folders count as older than any folder: they go once a folder of an earlier version exists.
    /// </summary>
    public static void RemoveOlderLayers(string shardDirectory, long version)
    {
        var root = Path.Combine(Path.GetFullPath(shardDirectory), LayerDirectoryName);
        if (!Directory.Exists(root))
        {
            return;
        }

        var older = Directory.GetDirectories(root, "v*")
            .Select(path => (Path: path, Version: long.TryParse(Path.GetFileName(path)[1..], NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : -1))
            .Where(d => d.Version >= 0 && d.Version < version)
            .OrderByDescending(d => d.Version)
            .ToList();
        foreach (var (path, _) in older.Skip(1))
        {
            Directory.Delete(path, recursive: true);
        }

        // Staging folders of versions up to this one lost their race or their process: nothing will place them.
        foreach (var staging in Directory.GetDirectories(root, ".v*-*"))
        {
            var name = Path.GetFileName(staging);
            if (long.TryParse(name[2..name.IndexOf('-', StringComparison.Ordinal)], NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v <= version)
            {
                Directory.Delete(staging, recursive: true);
            }
        }

        if (older.Count > 0)
        {
            foreach (var flat in Directory.GetFiles(root, "*" + LayerFile.FileExtension))
            {
                File.Delete(flat);
            }
        }
    }

    /// <summary>
    /// The protocol version to publish the set in: by default the newest (6); a planes set also in 5, a fixed-width set
    /// also in 2–4 (for devices of those versions), each refusing the other's.
    /// </summary>
    public static int FormatFor(IReadOnlyList<string> shardPaths, int? requested)
    {
        bool planes;
        using (var first = DqsReader.Open(shardPaths.Count > 0 ? shardPaths[0] : throw new InvalidDataException("the folder holds no .dqs shards.")))
        {
            planes = first.IsPlanes;
        }

        var format = requested ?? DatasetManifest.LatestFormat;
        if (format != DatasetManifest.LatestFormat && planes != (format == DatasetManifest.PlanesFormat))
        {
            throw new ArgumentException(planes
                ? $"a set of range-coded planes (dq quantize --codes planes) is published in protocol version {DatasetManifest.PlanesFormat} or {DatasetManifest.LatestFormat}, not {format}."
                : $"protocol version {DatasetManifest.PlanesFormat} carries sets of range-coded planes; this set's codes are fixed-width: publish it in protocol {DatasetManifest.LayersFormat} to {DatasetManifest.CompactHeldFormat} or {DatasetManifest.LatestFormat}.");
        }

        return format;
    }

    public static DatasetManifest Build(
        string fleet, string dataset, long version, string shardDirectory, int chunkSize = ChunkFrameConstants.MaxPayload,
        long firstLayerBytes = 16 * 1024, CancellationToken cancellationToken = default, IEnumerable<long>? cutAtHeldBytes = null,
        int? format = null, string? layerDirectory = null)
    {
        if (format is < DatasetManifest.LayersFormat or > DatasetManifest.LatestFormat)
        {
            throw new ArgumentOutOfRangeException(nameof(format), format, $"layers are published in protocol versions {DatasetManifest.LayersFormat} to {DatasetManifest.LatestFormat}.");
        }

        SyncNames.Require(fleet, nameof(fleet));
        SyncNames.Require(dataset, nameof(dataset));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        var orderPath = FindOrder(shardDirectory)
            ?? throw new InvalidDataException($"'{shardDirectory}' holds no single {IncrementOrder.FileExtension} increment order: write it with 'dq quantize --codes embedded'");
        var order = IncrementOrder.Read(orderPath);
        var shardPaths = Directory.GetFiles(shardDirectory, ShardDirectoryManifestBuilder.ShardPattern);
        Array.Sort(shardPaths, StringComparer.Ordinal);
        var protocol = FormatFor(shardPaths, format);
        layerDirectory ??= LayerDirectory(shardDirectory, version);
        if (Directory.Exists(layerDirectory))
        {
            // An earlier attempt at this version (whose record lost, say): its layers must not linger.
            Directory.Delete(layerDirectory, recursive: true);
        }

        var cuts = cutAtHeldBytes?.ToList() ?? [];
        var heldVersion = DatasetManifest.HeldIncrementsVersionOf(protocol);
        var layers = LayerBuilder.Build(shardPaths, order, layerDirectory, dataset, firstLayerBytes, cancellationToken: cancellationToken, cutAtHeldBytes: cuts,
            heldVersion: heldVersion, planesVersion: DatasetManifest.PlanesLayerVersionOf(protocol));
        var written = protocol >= DatasetManifest.PrefixesFormat
            ? LayerPrefixes.Write(layers, LayerPrefixes.CountsAt(layers, cuts), layerDirectory, dataset, cancellationToken, heldVersion)
            : [];
        var widths = new byte[order.SampleCount];
        var pixels = (long)order.PixelsPerSample;
        long bits = 0, stored = 0;
        var shards = new List<ManifestShard>(layers.Count);
        for (var l = 0; l < layers.Count; l++)
        {
            var layer = layers[l];
            for (var k = layer.FirstIncrement; k < layer.FirstIncrement + layer.IncrementCount; k++)
            {
                var (sample, to) = order.Increments[k];
                stored += widths[sample] == 0 ? 1 : 0;
                bits += pixels * (to - widths[sample]);
                widths[sample] = to;
            }

            using var stream = File.OpenRead(layer.Path);
            shards.Add(new ManifestShard
            {
                Id = l,
                Name = Path.GetFileName(layer.Path),
                Size = layer.Bytes,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
                BitBudget = bits,
                BitsPerPixel = Math.Round((double)bits / (pixels * order.SampleCount), 3, MidpointRounding.AwayFromZero),
                SampleCount = stored,
                Layer = new ManifestLayer
                {
                    FirstIncrement = layer.FirstIncrement,
                    IncrementCount = layer.IncrementCount,
                    HeldBytesAfter = layer.HeldBytesAfter,
                    ChunkCount = (int)((layer.Bytes + chunkSize - 1) / chunkSize),
                },
            });
        }

        foreach (var prefix in written)
        {
            var last = shards[prefix.Layers - 1];
            foreach (var (path, size, part) in (ReadOnlySpan<(string, long, string)>)[(prefix.ShardPath, prefix.ShardBytes, ManifestPrefix.ShardPart), (prefix.HeldPath, prefix.HeldBytes, ManifestPrefix.HeldPart)])
            {
                using var stream = File.OpenRead(path);
                shards.Add(new ManifestShard
                {
                    Id = shards.Count,
                    Name = Path.GetFileName(path),
                    Size = size,
                    Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
                    BitBudget = last.BitBudget,
                    BitsPerPixel = last.BitsPerPixel,
                    SampleCount = last.SampleCount,
                    Prefix = new ManifestPrefix { Layers = prefix.Layers, Part = part },
                });
            }
        }

        return new DatasetManifest
        {
            Format = protocol == DatasetManifest.PrefixesFormat && written.Count == 0 ? DatasetManifest.LayersFormat : protocol,
            Fleet = fleet,
            Dataset = dataset,
            Version = version,
            ChunkSize = chunkSize,
            CreatedUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Shards = shards,
        };
    }

    private static string? FindOrder(string shardDirectory)
    {
        var orders = Directory.Exists(shardDirectory) ? Directory.GetFiles(shardDirectory, "*" + IncrementOrder.FileExtension) : [];
        return orders.Length == 1 ? orders[0] : null;
    }
}
