using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// The stored samples of a shard set as a quantizer input: each sample's current reconstruction on the 0–255 scale.
/// Lets measures written for source images (class typicality, for one) run on shards a device already holds.
/// </summary>
public sealed class DqsSampleSource : ISampleSource
{
    private readonly DqsShardSet _set;
    private readonly byte[] _scratch;

    public DqsSampleSource(DqsShardSet set, string name)
    {
        _set = set;
        Name = name;
        _scratch = new byte[set.PixelsPerSample];
    }

    public string Name { get; }

    public int Count => _set.Count;

    public int Channels => _set.Header.Channels;

    public int Height => _set.Header.Height;

    public int Width => _set.Header.Width;

    public int ClassCount => _set.Header.ClassCount;

    public int Label(int index)
    {
        var (shard, sample) = _set.Locate(index);
        return shard.Label(sample);
    }

    /// <remarks>Not thread-safe: one scratch buffer serves every call.</remarks>
    public void ReadPixels(int index, Span<float> pixels)
    {
        var (shard, sample) = _set.Locate(index);
        shard.Decode(sample, _scratch);
        for (var p = 0; p < _scratch.Length; p++)
        {
            pixels[p] = _scratch[p];
        }
    }
}
