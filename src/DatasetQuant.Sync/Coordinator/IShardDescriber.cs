namespace DatasetQuant.Sync.Coordinator;

/// <summary>What the manifest says about a shard besides its bytes: read from the shard file's header.</summary>
public interface IShardDescriber
{
    /// <summary>Throws an exception naming the file when it is not a readable shard.</summary>
    ShardDescription Describe(string path);
}

/// <param name="SampleCount">Samples in the shard (dropped ones included).</param>
/// <param name="BitBudget">Bits of quantized payload.</param>
/// <param name="BitsPerPixel">Mean bits per pixel over the shard.</param>
public readonly record struct ShardDescription(long SampleCount, long BitBudget, double BitsPerPixel);
