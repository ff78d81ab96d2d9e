namespace DatasetQuant.Core.Quantization;

/// <summary>
/// How far each sample lies from the mean image of its own class (mean squared pixel difference, 0–255 scale): small for
/// the typical members of a class, large for its outliers. Coverage selection spreads the kept samples over these ranks,
/// which is what a dropped sample's replacement in training — another member of its class — depends on.
/// </summary>
public static class ClassTypicality
{
    public static double[] Measure(ISampleSource source, ReadOnlySpan<int> labels)
    {
        var n = source.Count;
        if (labels.Length != n)
        {
            throw new ArgumentException($"{labels.Length} labels for {n} samples.", nameof(labels));
        }

        var pixels = source.Channels * source.Height * source.Width;
        var classCount = 0;
        foreach (var label in labels)
        {
            if (label < 0)
            {
                throw new ArgumentException($"label {label} is negative; class typicality needs class indices.", nameof(labels));
            }

            classCount = Math.Max(classCount, label + 1);
        }

        var sums = new double[classCount * pixels];
        var counts = new int[classCount];
        var values = new float[pixels];
        for (var i = 0; i < n; i++)
        {
            source.ReadPixels(i, values);
            var sum = sums.AsSpan(labels[i] * pixels, pixels);
            for (var p = 0; p < pixels; p++)
            {
                sum[p] += values[p];
            }

            counts[labels[i]]++;
        }

        var means = new float[classCount * pixels];
        for (var c = 0; c < classCount; c++)
        {
            for (var p = 0; p < pixels; p++)
            {
                means[c * pixels + p] = counts[c] == 0 ? 0f : (float)(sums[c * pixels + p] / counts[c]);
            }
        }

        var distance = new double[n];
        for (var i = 0; i < n; i++)
        {
            source.ReadPixels(i, values);
            var mean = means.AsSpan(labels[i] * pixels, pixels);
            double total = 0;
            for (var p = 0; p < pixels; p++)
            {
                var d = values[p] - mean[p];
                total += (double)d * d;
            }

            distance[i] = total / pixels;
        }

        return distance;
    }
}
