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
            _logger.LogWarning("Refused manifest on {Topic}: {Error}; nothing stored, what is held is kept", message.Topic, error);
            return;
        }

        var manifest = signed.Manifest;
        if (manifest.Dataset != topicDataset || manifest.Fleet != _topics.Fleet)
        {
            _logger.LogWarning(
                "Rejected manifest on {Topic}: fields 'manifest.fleet' and 'manifest.dataset' are '{Fleet}' and '{Dataset}', not this topic's; nothing stored",
                message.Topic, manifest.Fleet, manifest.Dataset);
            return;
        }

        if (!_verifier.TryVerify(signed, out error))
        {
            _logger.LogWarning("Rejected manifest on {Topic}, version {Version}: field 'signature': {Error}; nothing stored", message.Topic, manifest.Version, error);
            return;
        }

        var held = _store.Find(manifest.Dataset);
        if (held is not null)
        {
            var heldVersion = held.Signed.Manifest.Version;
            if (manifest.Version < heldVersion)
            {
                _logger.LogWarning(
                    "Rejected manifest on {Topic}: field 'manifest.version' is {Version}, lower than the version {Held} held; nothing stored",
                    message.Topic, manifest.Version, heldVersion);
                return;
            }

            if (manifest.Version == heldVersion)
            {
                if (!ManifestCanonicalForm.GetBytes(manifest).AsSpan().SequenceEqual(ManifestCanonicalForm.GetBytes(held.Signed.Manifest)))
                {
                    _logger.LogWarning(
                        "Rejected manifest on {Topic}: field 'manifest.version' is {Version}, the version held, but the manifest differs from the one held; nothing stored",
                        message.Topic, manifest.Version);
                }

                return;
            }
        }

        FinishCommits(wait: true, manifest.Dataset);
        CloseAssemblies(manifest.Dataset);
        var holdings = _store.Accept(signed);
        if (manifest.IsLayered)
        {
            _logger.LogInformation(
                "Accepted manifest for dataset {Dataset} version {Version} (protocol version {Format}): {Layers} layers, {Bytes} bytes at full precision; the budget keeps {Target} ({Kept} already held)",
                manifest.Dataset, manifest.Version, manifest.Format, manifest.LayerCount, manifest.FullHeldBytes, TargetLayers(holdings), holdings.LayersApplied);
        }
        else
        {
            _logger.LogInformation(
                "Accepted manifest for dataset {Dataset} version {Version}: {Shards} shards, {Bytes} bytes ({Kept} shards already held)",
                manifest.Dataset, manifest.Version, manifest.Shards.Count, manifest.TotalBytes, holdings.Shards.Count);
        }

        ApplyBudget("manifest");
        // Layers are never broadcast: pull them at once rather than after a quiet period.
        SchedulePull(manifest.Dataset, _time.GetUtcNow() + (manifest.IsLayered ? TimeSpan.Zero : _options.PullQuietPeriod));
        _stateDirty = true;
        if (IsComplete(holdings))
        {
            SaveHoldings(force: true);
            RaiseDatasetStored(holdings, "received");
        }
    }

    private bool IsComplete(DatasetHoldings holdings)
    {
        if (holdings.Signed.Manifest.IsLayered)
        {
            return holdings.LayersApplied >= TargetLayers(holdings);
        }

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
        if (manifest.IsLayered && holdings.LayersApplied > 0)
        {
            paths.Add(_store.OpenLayered(manifest).ShardPath);
            bytes = holdings.LayeredBytes;
        }

        foreach (var shard in manifest.IsLayered ? [] : manifest.Shards)
        {
            var held = holdings.Find(shard.Id);
            if (held is not null && held.Precision != HeldShard.Dropped)
            {
                paths.Add(_store.ShardPath(manifest.Dataset, shard));
                bytes += held.Bytes;
            }
        }

        RefreshHeldBytes();
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
