using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Builds the (unsigned) manifest of a directory of shards: every <c>*.dqs</c> file in ordinal name order gets the id
/// of its position, its size, SHA-256 and what <see cref="IShardDescriber"/> reads from its header.
/// </summary>
public static class ShardDirectoryManifestBuilder
{
    public const string ShardPattern = "*.dqs";

    public static DatasetManifest Build(
        string fleet, string dataset, long version, string shardDirectory, IShardDescriber describer, int chunkSize = ChunkFrameConstants.MaxPayload)
    {
        SyncNames.Require(fleet, nameof(fleet));
        SyncNames.Require(dataset, nameof(dataset));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        if (!Directory.Exists(shardDirectory))
        {
            throw new DirectoryNotFoundException($"shard directory '{shardDirectory}' does not exist");
        }

        var files = Directory.GetFiles(shardDirectory, ShardPattern);
        Array.Sort(files, StringComparer.Ordinal);
        if (files.Length == 0)
        {
            throw new InvalidDataException($"shard directory '{shardDirectory}' holds no {ShardPattern} files");
        }

        var shards = new List<ManifestShard>(files.Length);
        for (var i = 0; i < files.Length; i++)
        {
            var path = files[i];
            var name = Path.GetFileName(path);
            if (!SyncNames.IsValid(name))
            {
                throw new InvalidDataException($"shard file name '{name}' in '{shardDirectory}' is not a valid name (A-Z a-z 0-9 . _ -)");
            }

            var description = describer.Describe(path);
            using var stream = File.OpenRead(path);
            var size = stream.Length;
            shards.Add(new ManifestShard
            {
                Id = i,
                Name = name,
                Size = size,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
                BitBudget = description.BitBudget,
                BitsPerPixel = Math.Round(description.BitsPerPixel, 3, MidpointRounding.AwayFromZero),
                SampleCount = description.SampleCount,
            });
        }

        return new DatasetManifest
        {
            Fleet = fleet,
            Dataset = dataset,
            Version = version,
            ChunkSize = chunkSize,
            CreatedUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Shards = shards,
        };
    }
}
