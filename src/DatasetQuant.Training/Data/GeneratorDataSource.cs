using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Training.Data;

/// <summary>
/// Synthetic training samples drawn from a DiM-style generator on demand (nothing is stored). The class of the sample
/// at index i is i mod C, so every epoch and every mix is class-balanced; the noise comes from the sampler's seeded
/// stream. Pixels are taken on the [0, 1] scale and standardised with the model's normalisation, the same one the
/// real data goes through.
/// </summary>
public sealed class GeneratorDataSource : ITrainingDataSource, IDisposable
{
    private readonly GeneratorSampler _sampler;
    private readonly int[] _classes;

    public GeneratorDataSource(string generatorPath, int samplesPerEpoch, InputNormalization normalization, ulong seed, int maxBatch = 256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(samplesPerEpoch);
        ArgumentNullException.ThrowIfNull(normalization);
        _sampler = GeneratorSampler.Open(generatorPath, new GeneratorSamplerOptions
        {
            Seed = seed,
            BatchSize = Math.Min(maxBatch, 256),
            Output = GeneratorOutputScale.UnitRange,
        });
        var manifest = _sampler.Manifest;
        if (normalization.Channels != manifest.Channels)
        {
            _sampler.Dispose();
            throw new InvalidDataException($"generator '{generatorPath}' makes {manifest.Channels}-channel samples, the model's normalisation has {normalization.Channels} channels.");
        }

        Count = samplesPerEpoch;
        Normalization = normalization;
        Description = $"generator {generatorPath}";
        _classes = new int[maxBatch];
    }

    public InputNormalization Normalization { get; }

    public int Count { get; }

    public int SampleLength => _sampler.SampleSize;

    public int ClassCount => _sampler.Manifest.ClassCount;

    public string Description { get; }

    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        DataSourceGuard.CheckBatch(this, indices, samples, labels);
        for (var start = 0; start < indices.Length; start += _classes.Length)
        {
            var count = Math.Min(_classes.Length, indices.Length - start);
            for (var j = 0; j < count; j++)
            {
                _classes[j] = indices[start + j] % ClassCount;
                labels[start + j] = _classes[j];
            }

            var destination = samples.Slice(start * SampleLength, count * SampleLength);
            _sampler.SampleClasses(_classes.AsSpan(0, count), destination);
            Normalization.ApplyToUnitScale(destination, SampleLength);
        }
    }

    public void Dispose() => _sampler.Dispose();
}
