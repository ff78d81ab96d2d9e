using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>
/// A real multi-shard dataset for the fleet tests: the first Fashion-MNIST test images quantized at 4 bits per pixel
/// (adaptive allocation) into several .dqs shards. Made once per test class.
/// </summary>
public sealed class FashionMnistShardSet : IDisposable
{
    private readonly TempDirectory _dir = new("fmnist-shards");

    public FashionMnistShardSet()
        : this(samples: 4000, shardSizeBytes: 320 * 1024, bitsPerPixel: 4)
    {
    }

    /// <summary>A set of another size (the fixture uses 4000 samples in 320 KiB shards).</summary>
    /// <summary>The first <paramref name="samples"/> images of the test set (or, with <paramref name="trainingSet"/>, the training set).</summary>
    public static FashionMnistShardSet Create(int samples, long shardSizeBytes, double bitsPerPixel = 4, bool trainingSet = false) =>
        new(samples, shardSizeBytes, bitsPerPixel, trainingSet ? "train" : "t10k");

    private FashionMnistShardSet(int samples, long shardSizeBytes, double bitsPerPixel = 4, string split = "t10k")
    {
        var images = IdxReader.Read(
            TestData.FashionMnist($"{split}-images-idx3-ubyte.gz"), TestData.FashionMnist($"{split}-labels-idx1-ubyte.gz"), "fmnist").Take(samples);
        DatasetQuantizer.Quantize(images, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(bitsPerPixel),
            OutputDirectory = _dir.Path,
            ShardSizeBytes = shardSizeBytes,
            ShardPrefix = "fmnist",
            MaxDegreeOfParallelism = 2,
        });
        Files = System.IO.Directory.GetFiles(_dir.Path, "*.dqs").Order(StringComparer.Ordinal).ToArray();
        if (Files.Count < 2)
        {
            throw new InvalidOperationException($"expected several shards in {_dir.Path}, got {Files.Count}");
        }

        TotalBytes = Files.Sum(f => new FileInfo(f).Length);
    }

    public string Directory => _dir.Path;

    public IReadOnlyList<string> Files { get; }

    public long TotalBytes { get; }

    public void Dispose() => _dir.Dispose();
}
