namespace DatasetQuant.Training.Data;

/// <summary>
/// Real samples mixed with synthetic ones at a fixed ratio: an epoch is every real sample once plus as many synthetic
/// samples as make them <see cref="SyntheticRatio"/> of the whole. Indices at or past the real count go to the
/// synthetic source, so the trainer's shuffle spreads both kinds through every batch.
/// </summary>
public sealed class MixedDataSource : ITrainingDataSource
{
    private readonly ITrainingDataSource _real;
    private readonly ITrainingDataSource _synthetic;
    private readonly int[] _realIndices;
    private readonly int[] _syntheticIndices;
    private readonly int[] _realPositions;
    private readonly int[] _syntheticPositions;
    private readonly float[] _scratch;
    private readonly int[] _scratchLabels;

    public MixedDataSource(ITrainingDataSource real, ITrainingDataSource synthetic, double syntheticRatio, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(real);
        ArgumentNullException.ThrowIfNull(synthetic);
        if (!(syntheticRatio >= 0 && syntheticRatio < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(syntheticRatio), syntheticRatio, "the synthetic ratio of a mix must be in [0, 1); use the generator alone for 1.");
        }

        if (real.SampleLength != synthetic.SampleLength)
        {
            throw new InvalidDataException($"{synthetic.Description} makes samples of {synthetic.SampleLength} values, {real.Description} holds {real.SampleLength}.");
        }

        if (real.ClassCount != synthetic.ClassCount)
        {
            throw new InvalidDataException($"{synthetic.Description} has {synthetic.ClassCount} classes, {real.Description} has {real.ClassCount}.");
        }

        _real = real;
        _synthetic = synthetic;
        SyntheticRatio = syntheticRatio;
        SyntheticCount = (int)Math.Min(int.MaxValue - real.Count, Math.Round(real.Count * syntheticRatio / (1 - syntheticRatio)));
        _realIndices = new int[maxBatch];
        _syntheticIndices = new int[maxBatch];
        _realPositions = new int[maxBatch];
        _syntheticPositions = new int[maxBatch];
        _scratch = new float[maxBatch * real.SampleLength];
        _scratchLabels = new int[maxBatch];
    }

    public double SyntheticRatio { get; }

    public int SyntheticCount { get; }

    public int Count => _real.Count + SyntheticCount;

    public int SampleLength => _real.SampleLength;

    public int ClassCount => _real.ClassCount;

    public string Description => $"{_real.Description} + {_synthetic.Description} ({SyntheticRatio:P0} synthetic)";

    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        DataSourceGuard.CheckBatch(this, indices, samples, labels);
        if (indices.Length > _realIndices.Length)
        {
            throw new ArgumentException($"batch of {indices.Length} exceeds the {_realIndices.Length} this mix was built for.", nameof(indices));
        }

        int realCount = 0, syntheticCount = 0;
        for (var j = 0; j < indices.Length; j++)
        {
            var index = indices[j];
            if (index < _real.Count)
            {
                _realIndices[realCount] = index;
                _realPositions[realCount++] = j;
            }
            else
            {
                // The synthetic source's own index picks the class, so the mix stays class-balanced.
                _syntheticIndices[syntheticCount] = (index - _real.Count) % _synthetic.Count;
                _syntheticPositions[syntheticCount++] = j;
            }
        }

        Scatter(_real, _realIndices.AsSpan(0, realCount), _realPositions, samples, labels);
        Scatter(_synthetic, _syntheticIndices.AsSpan(0, syntheticCount), _syntheticPositions, samples, labels);
    }

    private void Scatter(ITrainingDataSource source, ReadOnlySpan<int> indices, int[] positions, Span<float> samples, Span<int> labels)
    {
        if (indices.IsEmpty)
        {
            return;
        }

        var length = SampleLength;
        source.ReadBatch(indices, _scratch, _scratchLabels);
        for (var j = 0; j < indices.Length; j++)
        {
            _scratch.AsSpan(j * length, length).CopyTo(samples.Slice(positions[j] * length, length));
            labels[positions[j]] = _scratchLabels[j];
        }
    }
}
