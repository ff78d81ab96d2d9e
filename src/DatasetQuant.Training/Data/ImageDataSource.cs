using DatasetQuant.Core.Datasets;

namespace DatasetQuant.Training.Data;

/// <summary>An uncompressed uint8 dataset (e.g. the real test set) standardised batch by batch as it is read.</summary>
public sealed class ImageDataSource : ITrainingDataSource
{
    private readonly ImageDataset _dataset;
    private readonly float[] _multiplier;
    private readonly float[] _addend;

    public ImageDataSource(ImageDataset dataset, InputNormalization normalization)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(normalization);
        if (normalization.Channels != dataset.Channels)
        {
            throw new InvalidDataException($"{dataset.Name}: {dataset.Channels} channels, the model's normalisation has {normalization.Channels}.");
        }

        _dataset = dataset;
        Normalization = normalization;
        _multiplier = new float[dataset.Channels];
        _addend = new float[dataset.Channels];
        for (var c = 0; c < dataset.Channels; c++)
        {
            _multiplier[c] = 1f / (255f * normalization.StandardDeviation[c]);
            _addend[c] = -normalization.Mean[c] / normalization.StandardDeviation[c];
        }
    }

    public InputNormalization Normalization { get; }

    public int Count => _dataset.Count;

    public int SampleLength => _dataset.PixelsPerSample;

    public int ClassCount => _dataset.ClassCount;

    public string Description => _dataset.Name;

    public void ReadBatch(ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        DataSourceGuard.CheckBatch(this, indices, samples, labels);
        var plane = _dataset.Height * _dataset.Width;
        for (var j = 0; j < indices.Length; j++)
        {
            var pixels = _dataset.Pixels(indices[j]);
            var target = samples.Slice(j * SampleLength, SampleLength);
            for (var c = 0; c < _dataset.Channels; c++)
            {
                var a = _multiplier[c];
                var b = _addend[c];
                var source = pixels.Slice(c * plane, plane);
                var destination = target.Slice(c * plane, plane);
                for (var p = 0; p < plane; p++)
                {
                    destination[p] = (source[p] * a) + b;
                }
            }

            labels[j] = _dataset.Label(indices[j]);
        }
    }
}
