using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

public sealed partial class DeviceSyncEngine
{
    private void HandleManifest(string topicDataset, MqttMessage message)
    {
        if (!SyncMessageCodec.TryReadManifest(message.Payload.Span, out var signed, out var error))
        {
            _logger.LogWarning("Ignored manifest on {Topic}: {Error}", message.Topic, error);
            return;
        }

        var manifest = signed.Manifest;
        if (manifest.Dataset != topicDataset || manifest.Fleet != _topics.Fleet)
        {
            _logger.LogWarning(
                "Rejected manifest on {Topic}: it is for fleet '{Fleet}' dataset '{Dataset}'; nothing stored", message.Topic, manifest.Fleet, manifest.Dataset);
            return;
        }

        if (!_verifier.TryVerify(signed, out error))
        {
            _logger.LogWarning("Rejected manifest for dataset {Dataset} version {Version}: {Error}; nothing stored", manifest.Dataset, manifest.Version, error);
            return;
        }

        var held = _store.Find(manifest.Dataset);
        if (held is not null)
        {
            var heldVersion = held.Signed.Manifest.Version;
            if (manifest.Version < heldVersion)
            {
                _logger.LogWarning(
                    "Rejected manifest for dataset {Dataset} version {Version}: lower than the version {Held} held; nothing stored",
                    manifest.Dataset, manifest.Version, heldVersion);
                return;
            }

            if (manifest.Version == heldVersion)
            {
                if (!ManifestCanonicalForm.GetBytes(manifest).AsSpan().SequenceEqual(ManifestCanonicalForm.GetBytes(held.Signed.Manifest)))
                {
                    _logger.LogWarning(
                        "Rejected manifest for dataset {Dataset} version {Version}: it differs from the manifest of the same version held; nothing stored",
                        manifest.Dataset, manifest.Version);
                }

                return;
            }
        }

        FinishCommits(wait: true, manifest.Dataset);
        CloseAssemblies(manifest.Dataset);
        var holdings = _store.Accept(signed);
        _logger.LogInformation(
            "Accepted manifest for dataset {Dataset} version {Version}: {Shards} shards, {Bytes} bytes ({Kept} shards already held)",
            manifest.Dataset, manifest.Version, manifest.Shards.Count, manifest.TotalBytes, holdings.Shards.Count);
        ApplyBudget("manifest");
        SchedulePull(manifest.Dataset, _time.GetUtcNow() + _options.PullQuietPeriod);
        _stateDirty = true;
        if (IsComplete(holdings))
        {
            SaveHoldings(force: true);
            RaiseDatasetStored(holdings, "received");
        }
    }

    private static bool IsComplete(DatasetHoldings holdings)
    {
        foreach (var shard in holdings.Signed.Manifest.Shards)
        {
            if (holdings.Find(shard.Id) is null)
            {
                return false;
            }
        }

        return true;
    }

    private void RaiseDatasetStored(DatasetHoldings holdings, string reason)
    {
        var manifest = holdings.Signed.Manifest;
        var paths = new List<string>();
        long bytes = 0;
        foreach (var shard in manifest.Shards)
        {
            var held = holdings.Find(shard.Id);
            if (held is not null && held.Precision != HeldShard.Dropped)
            {
                paths.Add(_store.ShardPath(manifest.Dataset, shard));
                bytes += held.Bytes;
            }
        }

        _logger.LogInformation(
            "Dataset {Dataset} version {Version} is stored: {Shards} shards, {Bytes} bytes ({Reason})", manifest.Dataset, manifest.Version, paths.Count, bytes, reason);
        try
        {
            _events.OnDatasetStored(this, new DatasetStoredEventArgs(manifest.Dataset, manifest.Version, paths, bytes, reason));
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "A DatasetStored handler failed for dataset {Dataset}", manifest.Dataset);
        }
    }
}
