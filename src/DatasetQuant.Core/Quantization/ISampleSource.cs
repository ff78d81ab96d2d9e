namespace DatasetQuant.Core.Quantization;

/// <summary>
/// What the quantizer reads: labelled images of one shape, pixels channel-major (CHW). <see cref="Datasets.ImageDataset"/>
/// (uint8) and <see cref="FloatSampleSet"/> (float32 in [0, 1], e.g. generated samples) implement it.
/// </summary>
public interface ISampleSource
{
    string Name { get; }

    int Count { get; }

    int Channels { get; }

    int Height { get; }

    int Width { get; }

    int ClassCount { get; }

    int Label(int index);

    /// <summary>Copies sample <paramref name="index"/> as float pixel values on the 0–255 scale (CHW).</summary>
    void ReadPixels(int index, Span<float> pixels);
}
