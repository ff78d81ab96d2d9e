using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Datasets;

/// <summary>
/// An in-memory labelled image dataset: <see cref="Count"/> samples of <see cref="Channels"/>×<see cref="Height"/>×<see cref="Width"/>
/// uint8 pixels stored channel-major (CHW), each with a class label in [0, <see cref="ClassCount"/>).
/// </summary>
public sealed class ImageDataset : ISampleSource
{
    private readonly byte[] _pixels;
    private readonly int[] _labels;

    public ImageDataset(string name, int channels, int height, int width, int classCount, byte[] pixels, int[] labels)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(classCount, 1);
        var pixelsPerSample = (long)channels * height * width;
        if (pixels.LongLength != pixelsPerSample * labels.Length)
        {
            throw new ArgumentException(
                $"{name}: {pixels.LongLength} pixel bytes do not make {labels.Length} samples of {channels}x{height}x{width}.", nameof(pixels));
        }

        for (var i = 0; i < labels.Length; i++)
        {
            if ((uint)labels[i] >= (uint)classCount)
            {
                throw new ArgumentException($"{name}: label {labels[i]} of sample {i} is outside [0, {classCount}).", nameof(labels));
            }
        }

        Name = name;
        Channels = channels;
        Height = height;
        Width = width;
        ClassCount = classCount;
        PixelsPerSample = checked((int)pixelsPerSample);
        _pixels = pixels;
        _labels = labels;
    }

    /// <summary>A short name for messages and file names, e.g. <c>fashion-mnist-train</c>.</summary>
    public string Name { get; }

    public int Count => _labels.Length;

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    public int ClassCount { get; }

    /// <summary>Channels × height × width.</summary>
    public int PixelsPerSample { get; }

    /// <summary>The pixels of sample <paramref name="index"/>, uint8, channel-major (CHW).</summary>
    public ReadOnlySpan<byte> Pixels(int index)
    {
        if ((uint)index >= (uint)_labels.Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{Name} has {Count} samples.");
        }

        return _pixels.AsSpan(index * PixelsPerSample, PixelsPerSample);
    }

    /// <summary>All pixels, sample after sample.</summary>
    public ReadOnlySpan<byte> AllPixels => _pixels;

    public int Label(int index) => _labels[index];

    public ReadOnlySpan<int> Labels => _labels;

    public void ReadPixels(int index, Span<float> pixels)
    {
        var source = Pixels(index);
        for (var i = 0; i < source.Length; i++)
        {
            pixels[i] = source[i];
        }
    }

    /// <summary>The first <paramref name="count"/> samples, sharing nothing with this dataset.</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        count = Math.Min(count, Count);
        return new ImageDataset(Name, Channels, Height, Width, ClassCount,
            _pixels.AsSpan(0, count * PixelsPerSample).ToArray(), _labels.AsSpan(0, count).ToArray());
    }
}
