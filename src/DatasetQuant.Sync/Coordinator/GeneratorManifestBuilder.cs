using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Coordinator;

/// <summary>
/// Builds the (unsigned) manifest of a generator push: kind <see cref="DatasetManifest.GeneratorKind"/>, two entries,
/// the model (<c>G.onnx</c>, id 0) and its generator manifest (<c>G.json</c>, id 1), each with size and SHA-256. It
/// travels like shards (chunks, repair, resume); the device keeps it whole and never requantizes it.
/// </summary>
public static class GeneratorManifestBuilder
{
    public static DatasetManifest Build(string fleet, string dataset, long version, string generatorPath, int chunkSize = ChunkFrameConstants.MaxPayload)
    {
        SyncNames.Require(fleet, nameof(fleet));
        SyncNames.Require(dataset, nameof(dataset));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        var model = Path.GetFullPath(generatorPath);
        var json = Path.ChangeExtension(model, ".json");
        var files = new[] { model, json };
        var entries = new List<ManifestShard>(files.Length);
        for (var i = 0; i < files.Length; i++)
        {
            var path = files[i];
            var name = Path.GetFileName(path);
            if (!File.Exists(path))
            {
                throw new FileNotFoundException($"generator file '{path}' does not exist (a generator is its .onnx and the .json manifest beside it)", path);
            }

            if (!SyncNames.IsValid(name))
            {
                throw new InvalidDataException($"generator file name '{name}' is not a valid name (A-Z a-z 0-9 . _ -)");
            }

            using var stream = File.OpenRead(path);
            if (stream.Length == 0)
            {
                throw new InvalidDataException($"generator file '{path}' is empty");
            }

            entries.Add(new ManifestShard
            {
                Id = i,
                Name = name,
                Size = stream.Length,
                Sha256 = Convert.ToHexStringLower(SHA256.HashData(stream)),
            });
        }

        return new DatasetManifest
        {
            Fleet = fleet,
            Dataset = dataset,
            Kind = DatasetManifest.GeneratorKind,
            Version = version,
            ChunkSize = chunkSize,
            CreatedUnixSeconds = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            Shards = entries,
        };
    }
}
