using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Layered datasets (protocol versions 2 and 3, docs/protocol.md §7–8): the device turns its share of the budget into the
/// longest prefix of layers whose held bytes fit it, pulls the next batch of layers it lacks (nothing is broadcast),
/// applies each complete batch to its single shard (<see cref="Core.Progressive.ProgressiveHoldings"/>) and deletes the
/// layer files, or takes a prefix of layers served whole where that costs fewer bytes; a lower budget forgets the last
/// layers locally, a higher one pulls the next.
/// </summary>
public sealed partial class DeviceSyncEngine
{
    /// <summary>Layers the budget lets <paramref name="holdings"/> hold.</summary>
    private int TargetLayers(DatasetHoldings holdings)
    {
        var manifest = holdings.Signed.Manifest;
        return ManifestLayer.LayersWithin(manifest, BudgetPlan.LayeredTarget(manifest, ShardBudget(), BudgetPlan.TotalFullBytes(_store.State.Datasets.Values)));
    }

    private int LayerBatchEnd(DatasetHoldings holdings) =>
        BudgetPlan.LayerBatchEnd(holdings.Signed.Manifest, holdings.LayersApplied, holdings.LayeredBytes, TargetLayers(holdings));

    /// <summary>
    /// Whether a file of a layered dataset is to be fetched now, neither received nor being committed: the two files of
    /// the prefix the device takes in place of layers (<see cref="PlannedPrefix"/>), else the layers of the current batch.
    /// </summary>
    private bool NeedsLayer(DatasetHoldings holdings, ManifestShard entry)
    {
        if (holdings.Find(entry.Id) is not null || _commits.ContainsKey((holdings.Signed.Manifest.Dataset, entry.Id)))
        {
            return false;
        }

        if (PlannedPrefix(holdings) is { } prefix)
        {
            return entry.Id == prefix.Shard.Id || entry.Id == prefix.Held.Id;
        }

        return entry.Layer is not null && entry.Id >= holdings.LayersApplied && entry.Id < LayerBatchEnd(holdings);
    }

    /// <summary>A layer file (or a prefix's file) passed its SHA-256 and is in place: apply its batch, or install the prefix, once all of it is here.</summary>
    private void FinishLayerCommit(DatasetHoldings holdings, ManifestShard layer)
    {
        if (layer.Prefix is not null && !(PlannedPrefix(holdings) is { } planned && (planned.Shard.Id == layer.Id || planned.Held.Id == layer.Id)))
        {
            // The plan changed while the file was being committed (a budget change, a refusal): not wanted any more.
            File.Delete(_store.ShardPath(holdings.Signed.Manifest.Dataset, layer));
            ApplyReceivedLayers(holdings, "received");
            return;
        }

        holdings.Shards.RemoveAll(s => s.Id == layer.Id);
        holdings.Shards.Add(new HeldShard { Id = layer.Id, Bytes = layer.Size, Precision = HeldShard.Full });
        _store.MarkUnsaved(_time.GetUtcNow());
        _logger.LogDebug(
            "Received {Kind} {Dataset}/{File}: {Bytes} bytes, SHA-256 verified", layer.Prefix is null ? "layer" : "prefix file", holdings.Signed.Manifest.Dataset, layer.Name, layer.Size);
        ApplyReceivedLayers(holdings, "received");
    }

    /// <summary>
    /// Installs the planned prefix, or applies the current batch, when all its files are here, and goes on while the files
    /// on flash allow (a prefix installed or refused changes the plan, and the batch it gives may be here already); then
    /// pulls what comes next or reports the dataset stored.
    /// </summary>
    private void ApplyReceivedLayers(DatasetHoldings holdings, string reason)
    {
        var manifest = holdings.Signed.Manifest;
        var acted = false;
        // Each round advances the layers applied, refuses a prefix or deletes files, so the rounds are bounded.
        for (var round = 0; round <= manifest.Shards.Count; round++)
        {
            if (PlannedPrefix(holdings) is { } prefix)
            {
                if (holdings.Find(prefix.Shard.Id) is null || holdings.Find(prefix.Held.Id) is null)
                {
                    break;
                }

                InstallPrefix(holdings, prefix);
                acted = true;
                continue;
            }

            var (from, to) = (holdings.LayersApplied, LayerBatchEnd(holdings));
            if (to == from || Enumerable.Range(from, to - from).Any(id => holdings.Find(id) is null))
            {
                break;
            }

            ApplyLayers(holdings, from, to);
            acted = true;
        }

        if (!acted && !IsComplete(holdings))
        {
            // Still fetching: the transfers go on.
            return;
        }

        if (IsComplete(holdings))
        {
            SaveHoldings(force: true);
            RaiseDatasetStored(holdings, reason);
            _stateDirty = true;
            _budgetReportDirty = true;
        }
        else
        {
            SchedulePull(manifest.Dataset, _time.GetUtcNow());
            ReportProgressSoon();
        }
    }

    private void ApplyLayers(DatasetHoldings holdings, int from, int to)
    {
        var manifest = holdings.Signed.Manifest;
        var dataset = manifest.Dataset;
        var layers = manifest.Shards.GetRange(from, to - from);
        var before = holdings.LayeredBytes;
        try
        {
            var layered = _store.OpenLayered(manifest);
            layered.Apply([.. layers.Select(l => File.ReadAllBytes(_store.ShardPath(dataset, l)))], [.. layers.Select(l => l.Name)]);
            (holdings.LayersApplied, holdings.LayeredBytes) = (to, layered.HeldBytes);
            _logger.LogInformation(
                "Applied layers {From}..{To} of dataset {Dataset} version {Version}: {Before} -> {After} bytes held, {Layers} of {Count} layers",
                from, to - 1, dataset, manifest.Version, before, holdings.LayeredBytes, to, manifest.LayerCount);
        }
        catch (Exception ex) when (ex is DqsFormatException or InvalidDataException or ArgumentException)
        {
            // The layers passed their signed SHA-256, so the held copy is what is wrong: start again from no layers.
            _logger.LogError("Layers {From}..{To} of dataset {Dataset} do not apply to the held copy ({Error}); fetching the dataset again", from, to - 1, dataset, ex.Message);
            _store.DeleteLayered(dataset);
            (holdings.LayersApplied, holdings.LayeredBytes) = (0, 0);
            // The copy may have come from a prefix ending there, which would be taken again and fail again.
            if (ManifestPrefix.List(manifest).Any(p => p.Layers == from) && holdings.RefusedPrefixes?.Contains(from) != true)
            {
                RefusePrefix(holdings, from, $"layer {from} does not apply to the copy it gives");
            }
        }

        // State before deleting: a layer file whose application the state does not record yet is still on flash.
        holdings.Shards.RemoveAll(s => s.Id < to);
        _store.Save();
        foreach (var layer in layers)
        {
            File.Delete(_store.ShardPath(dataset, layer));
        }

        DurableFile.SyncDirectory(_store.DatasetDirectory(dataset));
    }

    /// <summary>
    /// Brings a layered dataset to its budget: forgets layers beyond the target locally (no download) and drops layer
    /// files and partial transfers it no longer needs; below the target it pulls the next layers. False when nothing changed on flash.
    /// </summary>
    private bool ShapeLayered(DatasetHoldings holdings)
    {
        var manifest = holdings.Signed.Manifest;
        var dataset = manifest.Dataset;
        var target = TargetLayers(holdings);
        var planned = PlannedPrefix(holdings);
        var changed = false;
        for (var id = target; id < manifest.Shards.Count; id++)
        {
            // Layers beyond the target, and the prefixes the device no longer takes.
            if (manifest.Shards[id].Prefix is not null && (id == planned?.Shard.Id || id == planned?.Held.Id))
            {
                continue;
            }

            var path = _store.ShardPath(dataset, manifest.Shards[id]);
            if (_assemblies.Remove((dataset, id), out var assembly))
            {
                assembly.Discard();
            }

            if (holdings.Find(id) is { } held)
            {
                holdings.Shards.Remove(held);
                File.Delete(path);
                changed = true;
            }

            File.Delete(path + ".partial");
            File.Delete(path + ".chunks");
        }

        if (holdings.LayersApplied > target)
        {
            var (before, layers) = (holdings.LayeredBytes, holdings.LayersApplied);
            try
            {
                if (target == 0)
                {
                    _store.DeleteLayered(dataset);
                    holdings.LayeredBytes = 0;
                }
                else
                {
                    var layered = _store.OpenLayered(holdings.Signed.Manifest);
                    layered.TruncateTo(target);
                    holdings.LayeredBytes = layered.HeldBytes;
                }
            }
            catch (Exception ex) when (ex is DqsFormatException or InvalidDataException)
            {
                _logger.LogError("The held copy of dataset {Dataset} cannot be shrunk ({Error}); fetching its layers again", dataset, ex.Message);
                _store.DeleteLayered(dataset);
                (target, holdings.LayeredBytes) = (0, 0);
            }

            holdings.LayersApplied = target;
            changed = true;
            _logger.LogInformation(
                "Dataset {Dataset}: budget keeps {Target} of {Layers} layers held; shrunk in place from {Before} to {After} bytes, nothing downloaded",
                dataset, target, layers, before, holdings.LayeredBytes);
        }
        else if (holdings.LayersApplied < target)
        {
            _logger.LogInformation("Dataset {Dataset}: budget allows {Target} layers, {Applied} held; pulling the next ones", dataset, target, holdings.LayersApplied);
            SchedulePull(dataset, _time.GetUtcNow());
            ApplyReceivedLayers(holdings, "budget");
        }

        if (changed)
        {
            _store.Save();
            DurableFile.SyncDirectory(_store.DatasetDirectory(dataset));
        }

        return changed;
    }

    /// <summary>The state report's view of a layered dataset: every applied layer (the last carries the held bytes), then the layer files received.</summary>
    private static List<HeldShardState> LayeredShardStates(DatasetHoldings holdings)
    {
        var states = new List<HeldShardState>(holdings.LayersApplied + holdings.Shards.Count);
        for (var id = 0; id < holdings.LayersApplied; id++)
        {
            states.Add(new HeldShardState { Id = id, Bytes = id == holdings.LayersApplied - 1 ? holdings.LayeredBytes : 0, Precision = HeldShard.Applied });
        }

        states.AddRange(holdings.Shards.Select(s => new HeldShardState { Id = s.Id, Bytes = s.Bytes, Precision = s.Precision }));
        return states;
    }
}
