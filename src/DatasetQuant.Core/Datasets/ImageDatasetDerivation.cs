namespace DatasetQuant.Core.Datasets;

/// <summary>
/// Smaller datasets made from a larger one, for checks on small data that no package here ships: images resized by area
/// averaging, thresholded and counted the way small digit sets were made from bitmaps, and per-class subsets.
/// Every method returns a new dataset and leaves its input alone.
/// </summary>
public static class ImageDatasetDerivation
{
    /// <summary>
    /// Resizes every channel to <paramref name="height"/>×<paramref name="width"/>: each output pixel is the mean of the
    /// input area it covers, fractional pixels weighted by their overlap (28 → 8 covers 3.5 pixels per output pixel).
    /// </summary>
    public static ImageDataset ResizeArea(ImageDataset source, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var rows = Weights(source.Height, height);
        var columns = Weights(source.Width, width);
        var outPixels = source.Channels * height * width;
        var pixels = new byte[source.Count * outPixels];
        var plane = new double[height * source.Width];
        var sums = new double[height * width];
        for (var i = 0; i < source.Count; i++)
        {
            var input = source.Pixels(i);
            for (var c = 0; c < source.Channels; c++)
            {
                var inPlane = input.Slice(c * source.Height * source.Width, source.Height * source.Width);
                Array.Clear(plane);
                foreach (var (from, to, weight) in rows)
                {
                    for (var x = 0; x < source.Width; x++)
                    {
                        plane[to * source.Width + x] += weight * inPlane[from * source.Width + x];
                    }
                }

                var output = pixels.AsSpan(i * outPixels + c * height * width, height * width);
                Array.Clear(sums);
                foreach (var (from, to, weight) in columns)
                {
                    for (var y = 0; y < height; y++)
                    {
                        sums[y * width + to] += weight * plane[y * source.Width + from];
                    }
                }

                for (var p = 0; p < sums.Length; p++)
                {
                    output[p] = (byte)Math.Clamp(Math.Round(sums[p]), 0, 255);
                }
            }
        }

        return new ImageDataset($"{source.Name}-{height}x{width}", source.Channels, height, width, source.ClassCount, pixels, source.Labels.ToArray());
    }

    /// <summary>
    /// Each pixel becomes 255 where it is at or above <paramref name="threshold"/> and 0 elsewhere; after
    /// <see cref="ResizeArea"/> and <see cref="Posterize"/> this gives images like the 8×8 digit sets, whose pixels count
    /// the inked pixels of a block of a bitmap.
    /// </summary>
    public static ImageDataset Threshold(ImageDataset source, byte threshold)
    {
        ArgumentNullException.ThrowIfNull(source);
        var pixels = source.AllPixels.ToArray();
        for (var p = 0; p < pixels.Length; p++)
        {
            pixels[p] = pixels[p] >= threshold ? (byte)255 : (byte)0;
        }

        return new ImageDataset($"{source.Name}-bw", source.Channels, source.Height, source.Width, source.ClassCount, pixels, source.Labels.ToArray());
    }

    /// <summary>Rounds every pixel to the nearest of <paramref name="levels"/> evenly spaced values in 0..255.</summary>
    public static ImageDataset Posterize(ImageDataset source, int levels)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentOutOfRangeException.ThrowIfLessThan(levels, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(levels, 256);
        var pixels = source.AllPixels.ToArray();
        var step = 255.0 / (levels - 1);
        for (var p = 0; p < pixels.Length; p++)
        {
            pixels[p] = (byte)Math.Round(Math.Round(pixels[p] / step) * step);
        }

        return new ImageDataset($"{source.Name}-{levels}levels", source.Channels, source.Height, source.Width, source.ClassCount, pixels, source.Labels.ToArray());
    }

    /// <summary>
    /// A seeded random subset with <paramref name="perClass"/>[c] samples of class c (fewer when the class has fewer),
    /// in a shuffled order so that no class comes in one run.
    /// </summary>
    public static ImageDataset SampleClasses(ImageDataset source, ReadOnlySpan<int> perClass, int seed, string name) =>
        Subset(source, ChooseClasses(source, perClass, seed), name);

    /// <summary>
    /// <see cref="SampleClasses"/> and the samples it left, in their source order: a seeded split of one set into a
    /// training and a test part that share no sample.
    /// </summary>
    public static (ImageDataset Chosen, ImageDataset Others) SplitClasses(ImageDataset source, ReadOnlySpan<int> perClass, int seed, string name, string restName)
    {
        var chosen = ChooseClasses(source, perClass, seed);
        var taken = new bool[source.Count];
        foreach (var index in chosen)
        {
            taken[index] = true;
        }

        var rest = Enumerable.Range(0, source.Count).Where(i => !taken[i]).ToArray();
        return (Subset(source, chosen, name), Subset(source, rest, restName));
    }

    /// <summary>The indices <see cref="SampleClasses"/> takes, in its shuffled order.</summary>
    private static int[] ChooseClasses(ImageDataset source, ReadOnlySpan<int> perClass, int seed)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (perClass.Length != source.ClassCount)
        {
            throw new ArgumentException($"{perClass.Length} per-class counts for {source.ClassCount} classes.", nameof(perClass));
        }

        var random = new Random(seed);
        var members = new List<int>[source.ClassCount];
        for (var c = 0; c < members.Length; c++)
        {
            members[c] = [];
        }

        for (var i = 0; i < source.Count; i++)
        {
            members[source.Label(i)].Add(i);
        }

        var chosen = new List<int>();
        for (var c = 0; c < members.Length; c++)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(perClass[c]);
            var group = members[c].ToArray();
            random.Shuffle(group);
            chosen.AddRange(group.AsSpan(0, Math.Min(perClass[c], group.Length)));
        }

        var order = chosen.ToArray();
        random.Shuffle(order);
        return order;
    }

    /// <summary>The samples at <paramref name="indices"/>, in that order.</summary>
    private static ImageDataset Subset(ImageDataset source, int[] indices, string name)
    {
        var pixelsPerSample = source.PixelsPerSample;
        var pixels = new byte[indices.Length * pixelsPerSample];
        var labels = new int[indices.Length];
        for (var k = 0; k < indices.Length; k++)
        {
            source.Pixels(indices[k]).CopyTo(pixels.AsSpan(k * pixelsPerSample, pixelsPerSample));
            labels[k] = source.Label(indices[k]);
        }

        return new ImageDataset(name, source.Channels, source.Height, source.Width, source.ClassCount, pixels, labels);
    }

    /// <summary>(input index, output index, weight) for every overlap of an input pixel with an output pixel along one axis.</summary>
    private static List<(int From, int To, double Weight)> Weights(int inSize, int outSize)
    {
        var list = new List<(int, int, double)>();
        var scale = (double)inSize / outSize;
        for (var o = 0; o < outSize; o++)
        {
            double start = o * scale, end = (o + 1) * scale;
            for (var i = (int)Math.Floor(start); i < Math.Min(inSize, (int)Math.Ceiling(end)); i++)
            {
                var overlap = Math.Min(end, i + 1) - Math.Max(start, i);
                if (overlap > 0)
                {
                    list.Add((i, o, overlap / scale));
                }
            }
        }

        return list;
    }
}
