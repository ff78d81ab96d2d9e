using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Core.Quantization;

/// <summary>Per-channel mean and standard deviation on the 0–255 scale, over every pixel of every sample.</summary>
public sealed record ChannelStatistics(float[] Mean, float[] StandardDeviation)
{
    public static ChannelStatistics Compute(ISampleSource source)
    {
        var channels = source.Channels;
        var plane = source.Height * source.Width;
        var sum = new double[channels];
        var sumSquares = new double[channels];
        var pixels = new float[channels * plane];
        for (var i = 0; i < source.Count; i++)
        {
            source.ReadPixels(i, pixels);
            for (var c = 0; c < channels; c++)
            {
                double s = 0, s2 = 0;
                foreach (var x in pixels.AsSpan(c * plane, plane))
                {
                    s += x;
                    s2 += (double)x * x;
                }

                sum[c] += s;
                sumSquares[c] += s2;
            }
        }

        var n = Math.Max(1.0, (double)source.Count * plane);
        var mean = new float[channels];
        var std = new float[channels];
        for (var c = 0; c < channels; c++)
        {
            var m = sum[c] / n;
            mean[c] = (float)m;
            std[c] = (float)Math.Max(Math.Sqrt(Math.Max(0, sumSquares[c] / n - m * m)), DqsConstants.MinStandardDeviation);
        }

        return new ChannelStatistics(mean, std);
    }
}
