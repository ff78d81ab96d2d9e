namespace DatasetQuant.Core.Quantization;

/// <summary>Samples held as float32 in [0, 1] (CHW), such as a generator's (G(z)+1)/2, ready to be quantized into shards.</summary>
public sealed class FloatSampleSet : ISampleSource
{
    private readonly float[] _pixels;
    private readonly int[] _labels;
    private readonly int _pixelsPerSample;

    public FloatSampleSet(string name, int channels, int height, int width, int classCount, float[] pixels, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        _pixelsPerSample = checked(channels * height * width);
        if (_pixelsPerSample <= 0 || pixels.LongLength != (long)_pixelsPerSample * labels.Length)
        {
            throw new ArgumentException($"{name}: {pixels.Length} values do not make {labels.Length} samples of {channels}x{height}x{width}.", nameof(pixels));
        }

        for (var i = 0; i < pixels.Length; i++)
        {
            if (!(pixels[i] >= 0f && pixels[i] <= 1f))
            {
                throw new ArgumentException($"{name}: value {i} is {pixels[i]}; samples must lie in [0, 1].", nameof(pixels));
            }
        }

        foreach (var label in labels)
        {
            if ((uint)label >= (uint)classCount)
            {
                throw new ArgumentException($"{name}: label {label} is outside [0, {classCount}).", nameof(labels));
            }
        }

        (Name, Channels, Height, Width, ClassCount, _pixels, _labels) = (name, channels, height, width, classCount, pixels, labels);
    }

    public string Name { get; }

    public int Count => _labels.Length;

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int ClassCount { get; }

    public int Label(int index) => _labels[index];

    public void ReadPixels(int index, Span<float> pixels)
    {
        var source = _pixels.AsSpan(index * _pixelsPerSample, _pixelsPerSample);
        for (var i = 0; i < source.Length; i++)
        {
            pixels[i] = source[i] * 255f;
        }
    }
}
