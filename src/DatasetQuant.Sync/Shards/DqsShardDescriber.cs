using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Sync.Coordinator;

namespace DatasetQuant.Sync.Shards;

/// <summary>Reads sample count, payload bits and mean bits per pixel from a .dqs shard for its manifest entry.</summary>
public sealed class DqsShardDescriber : IShardDescriber
{
    public ShardDescription Describe(string path)
    {
        using var reader = DqsReader.Open(path);
        long widthSum = 0;
        for (var i = 0; i < reader.Count; i++)
        {
            widthSum += reader.Bits(i);
        }

        var bitsPerPixel = reader.Count == 0 ? 0 : (double)widthSum / reader.Count;
        return new ShardDescription(reader.Count, reader.Header.PayloadLength * 8, bitsPerPixel);
    }
}
