using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>A signed manifest and the directory holding its shards' bytes, as published and served for repair.</summary>
public sealed record PublishedDataset(SignedManifestMessage Signed, string ShardDirectory)
{
    public DatasetManifest Manifest => Signed.Manifest;

    public string ShardPath(ManifestShard shard) => Path.Combine(ShardDirectory, shard.Name);
}

/// <summary>
/// The datasets a coordinator serves repairs for, by name (the latest published version of each). The coordinator
/// keeps this in its store so that any coordinator instance can answer any pull.
/// </summary>
public interface IPublishedDatasetCatalog
{
    PublishedDataset? Find(string dataset);
}

/// <summary>A catalog in memory, for tests and single-process use.</summary>
public sealed class InMemoryPublishedDatasetCatalog : IPublishedDatasetCatalog
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, PublishedDataset> _datasets = new(StringComparer.Ordinal);

    public void Add(PublishedDataset dataset) => _datasets[dataset.Manifest.Dataset] = dataset;

    public PublishedDataset? Find(string dataset) => _datasets.TryGetValue(dataset, out var found) ? found : null;
}
