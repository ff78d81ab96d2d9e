using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// A layered dataset (protocol versions 2 and 3) on flash: <c>datasets/{name}/{name}.dqs</c> and <c>{name}.dqh</c>, the shard
/// and held increments the applied layers make (docs/format.md §13), beside the layer files of the batch being fetched.
/// </summary>
internal sealed partial class DeviceStore
{
    /// <summary>
    /// The single shard and held increments of a layered dataset (docs/format.md §13), which write held increments of
    /// the version its manifest counts (<see cref="DatasetManifest.HeldIncrementsVersion"/>).
    /// </summary>
    public ProgressiveHoldings OpenLayered(DatasetManifest manifest) =>
        ProgressiveHoldings.Open(DatasetDirectory(manifest.Dataset), manifest.Dataset, manifest.HeldIncrementsVersion);

    /// <summary>
    /// A new version of a layered dataset keeps the applied layers it shares with the old one (same names and SHA-256, in
    /// order), shrinking the held copy locally to them; anything else starts again from no layers.
    /// </summary>
    private void KeepLayers(DatasetHoldings old, DatasetHoldings holdings)
    {
        var (before, after) = (old.Signed.Manifest, holdings.Signed.Manifest);
        var kept = 0;
        while (before.IsLayered && after.IsLayered && kept < old.LayersApplied && kept < after.LayerCount
               && before.Shards[kept].Name == after.Shards[kept].Name && before.Shards[kept].Sha256 == after.Shards[kept].Sha256)
        {
            kept++;
        }

        if (kept == 0)
        {
            DeleteLayered(after.Dataset);
            return;
        }

        try
        {
            // Also rewrites held increments of another version than the new manifest counts.
            var layered = OpenLayered(after);
            layered.TruncateTo(kept);
            (holdings.LayersApplied, holdings.LayeredBytes) = (kept, layered.HeldBytes);
            holdings.Shards.RemoveAll(s => s.Id < kept);
        }
        catch (Exception ex) when (ex is DqsFormatException or IOException)
        {
            _logger.LogWarning("The held copy of layered dataset {Dataset} is unreadable ({Error}): its layers will be fetched again", after.Dataset, ex.Message);
            DeleteLayered(after.Dataset);
            holdings.Shards.Clear();
        }
    }

    /// <summary>
    /// Makes a verified and checked prefix (its shard and held increments, on flash under their manifest names) the held
    /// copy. The old held increments go first, so a power cut before both renames leaves a shard without held
    /// increments, never a pair that does not match; start-up then finishes the install (<see cref="FinishPrefixInstall"/>)
    /// or deletes the shard.
    /// </summary>
    public ProgressiveHoldings InstallPrefix(DatasetManifest manifest, string shardPath, string heldPath)
    {
        var dataset = manifest.Dataset;
        var layered = ProgressiveHoldingsPaths(dataset);
        DurableFile.Delete(layered.Held);
        File.Move(shardPath, layered.Shard, overwrite: true);
        // The shard's rename is durable before the held increments': a cut between them leaves what start-up finishes.
        DurableFile.SyncDirectory(DatasetDirectory(dataset));
        File.Move(heldPath, layered.Held, overwrite: true);
        DurableFile.SyncDirectory(DatasetDirectory(dataset));
        return OpenLayered(manifest);
    }

    /// <summary>
    /// A power cut between the two renames of <see cref="InstallPrefix"/> leaves the prefix's shard as the held shard,
    /// no held increments, and the prefix's held increments under their own name: finish the install, rather than
    /// delete the shard and fetch it again. The shard is hashed only in that case, and must be the prefix's.
    /// </summary>
    private void FinishPrefixInstall(string name, DatasetHoldings holdings)
    {
        var layered = ProgressiveHoldingsPaths(name);
        if (File.Exists(layered.Held) || !File.Exists(layered.Shard))
        {
            return;
        }

        var size = new FileInfo(layered.Shard).Length;
        foreach (var (layers, shard, held) in ManifestPrefix.List(holdings.Signed.Manifest))
        {
            if (shard.Size == size && holdings.Find(held.Id)?.Precision == HeldShard.Full && HashOf(layered.Shard) == shard.Sha256)
            {
                File.Move(ShardPath(name, held), layered.Held);
                DurableFile.SyncDirectory(DatasetDirectory(name));
                holdings.Shards.RemoveAll(s => s.Id == held.Id || s.Id == shard.Id);
                _logger.LogInformation("Finished installing the prefix of {Layers} layers of dataset {Dataset}, cut off by a restart", layers, name);
                return;
            }
        }
    }

    /// <summary>Deletes a layered dataset's shard and held increments (the held increments first: alone, they are refused on open).</summary>
    public void DeleteLayered(string dataset)
    {
        var layered = ProgressiveHoldingsPaths(dataset);
        DurableFile.Delete(layered.Held);
        DurableFile.Delete(layered.Shard);
    }

    private (string Shard, string Held) ProgressiveHoldingsPaths(string dataset) =>
        (Path.Combine(DatasetDirectory(dataset), dataset + DqsConstants.FileExtension), Path.Combine(DatasetDirectory(dataset), dataset + HeldIncrements.FileExtension));

    /// <summary>
    /// A layered dataset's files are the truth after a power cut: what the held increments say was applied, or nothing
    /// when they do not match the shard (a cut between the two writes). Layer files already applied are forgotten.
    /// </summary>
    private bool ReconcileLayered(string name, DatasetHoldings holdings)
    {
        FinishPrefixInstall(name, holdings);
        var (layers, bytes) = (0, 0L);
        try
        {
            var layered = OpenLayered(holdings.Signed.Manifest);
            (layers, bytes) = (layered.LayerCount, layered.HeldBytes);
        }
        catch (Exception ex) when (ex is DqsFormatException or IOException)
        {
            _logger.LogWarning("The held copy of layered dataset {Dataset} is unreadable ({Error}): its layers will be fetched again", name, ex.Message);
            DeleteLayered(name);
        }

        var changed = (layers, bytes) != (holdings.LayersApplied, holdings.LayeredBytes) || holdings.Shards.Exists(s => s.Id < layers);
        (holdings.LayersApplied, holdings.LayeredBytes) = (layers, bytes);
        holdings.Shards.RemoveAll(s => s.Id < layers);
        return changed;
    }
}
