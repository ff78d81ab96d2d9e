using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Training.Data;

/// <summary>
/// Training batches decoded straight from memory-mapped .dqs shards: the quantized payload on flash is the only copy of
/// the dataset, and each batch is decoded into the trainer's buffer with the model's normalisation.
/// Dropped samples (width 0) are not in the shards, so an epoch is every stored sample once.
/// </summary>
public sealed class ShardDataSource : ITrainingDataSource, IDisposable
{
    private readonly DqsShardSet _shards;
    private readonly DqsNormalization _normalization;
    private readonly bool _ownsShards;

    public ShardDataSource(DqsShardSet shards, InputNormalization? normalization = null, bool ownsShards = false, string? description = null)
    {
        ArgumentNullException.ThrowIfNull(shards);
        _shards = shards;
        _ownsShards = ownsShards;
        var header = shards.Header;
        Normalization = normalization ?? InputNormalization.FromHeader(header);
        if (Normalization.Channels != header.Channels)
        {
            throw new InvalidDataException(
                $"{description ?? shards.Shards[0].Path}: samples have {header.Channels} channels, the model's normalisation has {Normalization.Channels}.");
        }

        _normalization = Normalization.ToDqs();
        Description = description ?? (shards.Shards.Count == 1 ? shards.Shards[0].Path : $"{shards.Shards.Count} shards from {shards.Shards[0].Path}");
    }

    /// <summary>Opens shard files or folders of shards.</summary>
    public static ShardDataSource Open(IEnumerable<string> paths, InputNormalization? normalization = null)
    {
        var list = paths.ToList();
        var shards = DqsShardSet.Open(list);
        try
        {
            return new ShardDataSource(shards, normalization, ownsShards: true, description: string.Join(", ", list));
        }
        catch
        {
            shards.Dispose();
            throw;
        }
    }

    public InputNormalization Normalization { get; }

    public DqsHeader Header => _shards.Header;

    public int Count => _shards.Count;

    public int SampleLength => _shards.PixelsPerSample;

    public int ClassCount => _shards.Header.ClassCount;

    public string Description { get; }

    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        DataSourceGuard.CheckBatch(this, indices, samples, labels);
        _shards.DecodeBatch(indices, samples, labels, _normalization);
    }

    public void Dispose()
    {
        if (_ownsShards)
        {
            _shards.Dispose();
        }
    }
}
