using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Prefixes of layers served whole (protocol version 3, docs/protocol.md §7): where the coordinator wrote the copy a
/// device holds after layers <c>0..k−1</c>, a device that lacks those layers and keeps at least k fetches the copy's
/// two files instead when they cost fewer bytes than the layers, and installs them as its shard and held increments.
/// </summary>
public sealed partial class DeviceSyncEngine
{
    /// <summary>Prefixes that did not open as a copy of their layers: the device takes those layers instead.</summary>
    private readonly HashSet<(string Dataset, long Version, int Layers)> _refusedPrefixes = [];

    /// <summary>The prefix to fetch in place of layers now (<see cref="LayerPrefixes.Choose"/>), or null to fetch layers.</summary>
    private (int Layers, ManifestShard Shard, ManifestShard Held)? PlannedPrefix(DatasetHoldings holdings)
    {
        var manifest = holdings.Signed.Manifest;
        if (manifest.Format != DatasetManifest.PrefixesFormat)
        {
            return null;
        }

        var prefixes = ManifestPrefix.List(manifest).Where(p => !_refusedPrefixes.Contains((manifest.Dataset, manifest.Version, p.Layers))).ToList();
        var layers = LayerPrefixes.Choose(
            layer => manifest.Shards[layer].Size, prefixes.Select(p => (p.Layers, p.Shard.Size + p.Held.Size)), holdings.LayersApplied, TargetLayers(holdings));
        return layers == 0 ? null : prefixes.Single(p => p.Layers == layers);
    }

    /// <summary>Both files of the prefix are verified: they become the held copy, replacing the one held.</summary>
    private void InstallPrefix(DatasetHoldings holdings, (int Layers, ManifestShard Shard, ManifestShard Held) prefix)
    {
        var manifest = holdings.Signed.Manifest;
        var dataset = manifest.Dataset;
        var (applied, before) = (holdings.LayersApplied, holdings.LayeredBytes);
        try
        {
            var layered = _store.InstallPrefix(dataset, _store.ShardPath(dataset, prefix.Shard), _store.ShardPath(dataset, prefix.Held));
            if (layered.LayerCount != prefix.Layers)
            {
                throw new InvalidDataException($"its held increments end at layer {layered.LayerCount - 1}, not {prefix.Layers - 1}");
            }

            (holdings.LayersApplied, holdings.LayeredBytes) = (prefix.Layers, layered.HeldBytes);
            _logger.LogInformation(
                "Installed the prefix of {Layers} layers of dataset {Dataset} version {Version}: {After} bytes held (was {Before} in {Applied} layers), received whole in place of its layers",
                prefix.Layers, dataset, manifest.Version, holdings.LayeredBytes, before, applied);
        }
        catch (Exception ex) when (ex is DqsFormatException or InvalidDataException or IOException)
        {
            // The files passed their signed SHA-256, so the coordinator wrote a prefix that is not its layers' copy.
            _logger.LogError(
                "The prefix of {Layers} layers of dataset {Dataset} version {Version} is not a copy its layers make ({Error}); fetching the layers instead",
                prefix.Layers, dataset, manifest.Version, ex.Message);
            _refusedPrefixes.Add((dataset, manifest.Version, prefix.Layers));
            _store.DeleteLayered(dataset);
            (holdings.LayersApplied, holdings.LayeredBytes) = (0, 0);
        }

        // State before deleting: layer files the state still lists are on flash until it no longer does.
        var obsolete = holdings.Shards.Where(s => s.Id < holdings.LayersApplied || s.Id == prefix.Shard.Id || s.Id == prefix.Held.Id).Select(s => s.Id).ToList();
        holdings.Shards.RemoveAll(s => obsolete.Contains(s.Id));
        _store.Save();
        foreach (var id in obsolete)
        {
            File.Delete(_store.ShardPath(dataset, manifest.Shards[id]));
        }

        DurableFile.SyncDirectory(_store.DatasetDirectory(dataset));
    }
}
