namespace DatasetQuant.Training.Data;

/// <summary>
/// Where training batches come from: normalised float samples (C·H·W each, channel-major) and their labels, read by
/// index into buffers the trainer owns. Sources do not hold a second copy of the dataset: a shard source decodes
/// from the memory-mapped file on demand, a generator source synthesises on demand.
/// </summary>
public interface ITrainingDataSource
{
    /// <summary>Samples per epoch; indices passed to <see cref="ReadBatch"/> are in [0, Count).</summary>
    int Count { get; }

    /// <summary>Floats per sample (channels × height × width).</summary>
    int SampleLength { get; }

    int ClassCount { get; }

    /// <summary>A name for messages: the shard paths, the generator file.</summary>
    string Description { get; }

    /// <summary>Writes sample <c>indices[j]</c> into <c>samples[j·SampleLength..]</c> and its label into <c>labels[j]</c>.</summary>
    void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels);
}
