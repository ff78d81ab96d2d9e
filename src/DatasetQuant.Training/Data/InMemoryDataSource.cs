namespace DatasetQuant.Training.Data;

/// <summary>Samples already in memory (a decoded evaluation set, a test fixture): batches are copies out of the arrays.</summary>
public sealed class InMemoryDataSource : ITrainingDataSource
{
    private readonly float[] _samples;
    private readonly int[] _labels;

    public InMemoryDataSource(float[] samples, int[] labels, int sampleLength, int classCount, string description = "in-memory samples")
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(sampleLength);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 2);
        if ((long)labels.Length * sampleLength != samples.Length)
        {
            throw new ArgumentException($"{samples.Length} values are not {labels.Length} samples of {sampleLength}.", nameof(samples));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"{description}: label {labels[i]} of sample {i} is outside 0..{classCount - 1}.", nameof(labels));
            }
        }

        _samples = samples;
        _labels = labels;
        SampleLength = sampleLength;
        ClassCount = classCount;
        Description = description;
    }

    public int Count => _labels.Length;

    public int SampleLength { get; }

    public int ClassCount { get; }

    public string Description { get; }

    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        DataSourceGuard.CheckBatch(this, indices, samples, labels);
        for (var j = 0; j < indices.Length; j++)
        {
            var index = indices[j];
            _samples.AsSpan(index * SampleLength, SampleLength).CopyTo(samples.Slice(j * SampleLength, SampleLength));
            labels[j] = _labels[index];
        }
    }
}
