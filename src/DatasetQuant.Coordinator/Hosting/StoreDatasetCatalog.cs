using System.Collections.Concurrent;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// The datasets this coordinator repairs, read from the fleet store: whoever ran <c>publish --db</c> (this process or
/// another coordinator) recorded the signed manifest and the shard folder there. The dictionary is only a cache of
/// the store; <see cref="RefreshAsync"/> re-reads it when a manifest is announced and on the housekeeping tick.
/// </summary>
public sealed class StoreDatasetCatalog(IFleetStore store, string fleet, string? expectedKeyId, ILogger<StoreDatasetCatalog> logger) : IPublishedDatasetCatalog
{
    private readonly ConcurrentDictionary<string, PublishedDataset> _datasets = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, long), bool> _warned = new();

    public PublishedDataset? Find(string dataset) => _datasets.TryGetValue(dataset, out var found) ? found : null;

    public IReadOnlyCollection<PublishedDataset> All => _datasets.Values.ToList();

    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        foreach (var record in await store.ListDatasetsAsync(fleet, cancellationToken))
        {
            if (_datasets.TryGetValue(record.Name, out var cached) && cached.Manifest.Version == record.ManifestVersion)
            {
                continue;
            }

            if (record.SignedManifest is null)
            {
                WarnOnce(record.Name, record.ManifestVersion, "the store has no signed manifest for it");
                continue;
            }

            if (!SyncMessageCodec.TryReadManifest(record.SignedManifest, out var signed, out var error))
            {
                WarnOnce(record.Name, record.ManifestVersion, $"its stored manifest does not parse: {error}");
                continue;
            }

            if (expectedKeyId is not null && signed.KeyId != expectedKeyId)
            {
                WarnOnce(record.Name, record.ManifestVersion, $"it was signed with key {signed.KeyId}, not this coordinator's {expectedKeyId}");
                continue;
            }

            _datasets[record.Name] = new PublishedDataset(signed, record.ShardDirectory);
            logger.LogInformation(
                "Serving repairs for dataset {Dataset} version {Version}: {Shards} shards from {Directory}",
                record.Name, record.ManifestVersion, signed.Manifest.Shards.Count, record.ShardDirectory);
        }
    }

    /// <summary>True when the store knows <paramref name="dataset"/> at <paramref name="version"/> or later.</summary>
    public bool Covers(string dataset, long version) => Find(dataset) is { } found && found.Manifest.Version >= version;

    private void WarnOnce(string dataset, long version, string why)
    {
        if (_warned.TryAdd((dataset, version), true))
        {
            logger.LogWarning("Cannot serve repairs for dataset {Dataset} version {Version}: {Why}", dataset, version, why);
        }
    }
}
