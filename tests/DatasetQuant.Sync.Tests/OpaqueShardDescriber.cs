using DatasetQuant.Sync.Coordinator;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// For protocol tests the shards are opaque bytes (the protocol never looks inside): 784-byte samples at 8 bits.
/// </summary>
internal sealed class OpaqueShardDescriber : IShardDescriber
{
    public ShardDescription Describe(string path)
    {
        var length = new FileInfo(path).Length;
        return new ShardDescription(length / 784, length * 8, 8.0);
    }
}
