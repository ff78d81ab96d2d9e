using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Prefixes of layers served whole (protocol versions 3 and 4, docs/protocol.md §7): where the coordinator wrote the copy a
/// device holds after layers <c>0..k−1</c>, a device that lacks those layers and keeps at least k fetches the copy's
/// two files instead when they cost fewer bytes than the layers, checks them where they lie, and installs them as its
/// shard and held increments. A prefix whose files fail their SHA-256 twice, or do not open as their layers' copy, is
/// refused for the manifest version (recorded in the state file) and the device takes the layers.
/// </summary>
public sealed partial class DeviceSyncEngine
{
    /// <summary>SHA-256 failures of a prefix's files after which the device takes its layers instead.</summary>
    private const int PrefixMismatchesBeforeRefusal = 2;

    private readonly Dictionary<(string Dataset, long Version, int Layers), int> _prefixMismatches = [];

    /// <summary>The prefix to fetch in place of layers now (<see cref="LayerPrefixes.Choose"/>), or null to fetch layers.</summary>
    private (int Layers, ManifestShard Shard, ManifestShard Held)? PlannedPrefix(DatasetHoldings holdings)
    {
        var manifest = holdings.Signed.Manifest;
        if (!manifest.HasPrefixes)
        {
            return null;
        }

        var prefixes = ManifestPrefix.List(manifest).Where(p => holdings.RefusedPrefixes?.Contains(p.Layers) != true);
        var layers = LayerPrefixes.Choose(manifest.LayerBytes, prefixes.Select(p => (p.Layers, p.Shard.Size + p.Held.Size)), holdings.LayersApplied, TargetLayers(holdings));
        return layers == 0 ? null : prefixes.First(p => p.Layers == layers);
    }

    /// <summary>A file of a prefix failed its SHA-256: after the second failure the device takes that prefix's layers instead.</summary>
    private void NotePrefixMismatch(DatasetHoldings holdings, ManifestShard file)
    {
        var manifest = holdings.Signed.Manifest;
        var key = (manifest.Dataset, manifest.Version, file.Prefix!.Layers);
        if ((_prefixMismatches[key] = _prefixMismatches.GetValueOrDefault(key) + 1) >= PrefixMismatchesBeforeRefusal)
        {
            RefusePrefix(holdings, file.Prefix.Layers, $"its file {file.Name} failed its SHA-256 {PrefixMismatchesBeforeRefusal} times");
            DiscardPrefixFiles(holdings, ManifestPrefix.List(manifest).First(p => p.Layers == file.Prefix.Layers));
            // Layers already on flash may now make a batch.
            ApplyReceivedLayers(holdings, "received");
        }
    }

    /// <summary>Both files of the prefix are verified: checked where they lie, they become the held copy.</summary>
    private void InstallPrefix(DatasetHoldings holdings, (int Layers, ManifestShard Shard, ManifestShard Held) prefix)
    {
        var manifest = holdings.Signed.Manifest;
        var dataset = manifest.Dataset;
        var (applied, before) = (holdings.LayersApplied, holdings.LayeredBytes);
        var (shardPath, heldPath) = (_store.ShardPath(dataset, prefix.Shard), _store.ShardPath(dataset, prefix.Held));
        try
        {
            var held = ProgressiveHoldings.ReadHeld(shardPath, heldPath);
            var last = manifest.Shards[prefix.Layers - 1].Layer!;
            if (held.Layers != prefix.Layers || held.Count != last.FirstIncrement + last.IncrementCount)
            {
                throw new InvalidDataException(
                    $"its held increments are {held.Count} in {held.Layers} layers; layers 0..{prefix.Layers - 1} carry {last.FirstIncrement + last.IncrementCount}");
            }
        }
        catch (Exception ex) when (ex is DqsFormatException or InvalidDataException or IOException)
        {
            // The files passed their signed SHA-256 (an I/O error reading them back aside), so the coordinator wrote a
            // prefix that is not its layers' copy.
            RefusePrefix(holdings, prefix.Layers, $"it is not a copy its layers make ({ex.Message})");
            DiscardPrefixFiles(holdings, prefix);
            return;
        }

        try
        {
            var layered = _store.InstallPrefix(manifest, shardPath, heldPath);
            (holdings.LayersApplied, holdings.LayeredBytes) = (prefix.Layers, layered.HeldBytes);
            _logger.LogInformation(
                "Installed the prefix of {Layers} layers of dataset {Dataset} version {Version}: {After} bytes held (was {Before} in {Applied} layers), received whole in place of its layers",
                prefix.Layers, dataset, manifest.Version, holdings.LayeredBytes, before, applied);
        }
        catch (Exception ex) when (ex is IOException or DqsFormatException or InvalidDataException)
        {
            // Checked above, so the flash failed between the renames: as for a layer that does not apply, start again.
            _logger.LogError("Installing the prefix of {Layers} layers of dataset {Dataset} failed ({Error}); fetching the dataset again", prefix.Layers, dataset, ex.Message);
            _store.DeleteLayered(dataset);
            (holdings.LayersApplied, holdings.LayeredBytes) = (0, 0);
        }

        // Layers the prefix stands for that were being fetched, now or before a restart, are not wanted any more.
        for (var id = applied; id < holdings.LayersApplied; id++)
        {
            if (_assemblies.Remove((dataset, id), out var assembly))
            {
                assembly.Discard();
            }

            var path = _store.ShardPath(dataset, manifest.Shards[id]);
            File.Delete(path + ".partial");
            File.Delete(path + ".chunks");
        }

        DiscardPrefixFiles(holdings, prefix);
    }

    private void RefusePrefix(DatasetHoldings holdings, int layers, string why)
    {
        var manifest = holdings.Signed.Manifest;
        _logger.LogError(
            "The prefix of {Layers} layers of dataset {Dataset} version {Version} is refused: {Why}; taking its layers instead",
            layers, manifest.Dataset, manifest.Version, why);
        (holdings.RefusedPrefixes ??= []).Add(layers);
        _store.Save();
    }

    /// <summary>Forgets the prefix's files and the layer files it replaced: the state first, then the files.</summary>
    private void DiscardPrefixFiles(DatasetHoldings holdings, (int Layers, ManifestShard Shard, ManifestShard Held) prefix)
    {
        var manifest = holdings.Signed.Manifest;
        var obsolete = holdings.Shards.Where(s => s.Id < holdings.LayersApplied || s.Id == prefix.Shard.Id || s.Id == prefix.Held.Id).Select(s => s.Id).ToList();
        holdings.Shards.RemoveAll(s => obsolete.Contains(s.Id));
        _store.Save();
        foreach (var id in obsolete)
        {
            File.Delete(_store.ShardPath(manifest.Dataset, manifest.Shards[id]));
        }

        foreach (var file in (ManifestShard[])[prefix.Shard, prefix.Held])
        {
            File.Delete(_store.ShardPath(manifest.Dataset, file));
        }

        DurableFile.SyncDirectory(_store.DatasetDirectory(manifest.Dataset));
    }
}
