namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// How decoded pixels are scaled: out = x̂·Multiplier[c] + Addend[c], with x̂ the reconstruction on the 0–255 scale.
/// Built once and reused: decoding with it allocates nothing.
/// </summary>
public sealed class DqsNormalization
{
    private DqsNormalization(float[] multiplier, float[] addend)
    {
        Multiplier = multiplier;
        Addend = addend;
    }

    public IReadOnlyList<float> Multiplier { get; }

    public IReadOnlyList<float> Addend { get; }

    public int Channels => Multiplier.Count;

    /// <summary>Pixels on the 0–255 scale.</summary>
    public static DqsNormalization PixelScale(int channels) => new(Fill(channels, 1f), Fill(channels, 0f));

    /// <summary>Pixels on the [0, 1] scale.</summary>
    public static DqsNormalization Unit(int channels) => new(Fill(channels, 1f / 255f), Fill(channels, 0f));

    /// <summary>(x/255 − mean[c]) / std[c], with mean and std on the [0, 1] scale (e.g. from a model card).</summary>
    public static DqsNormalization Standardize(IReadOnlyList<float> mean, IReadOnlyList<float> standardDeviation)
    {
        if (mean.Count != standardDeviation.Count || mean.Count == 0)
        {
            throw new ArgumentException($"mean has {mean.Count} channels and std {standardDeviation.Count}.", nameof(standardDeviation));
        }

        var multiplier = new float[mean.Count];
        var addend = new float[mean.Count];
        for (var c = 0; c < mean.Count; c++)
        {
            if (!(standardDeviation[c] > 0f))
            {
                throw new ArgumentOutOfRangeException(nameof(standardDeviation), standardDeviation[c], $"std of channel {c} must be positive.");
            }

            multiplier[c] = 1f / (255f * standardDeviation[c]);
            addend[c] = -mean[c] / standardDeviation[c];
        }

        return new DqsNormalization(multiplier, addend);
    }

    /// <summary>Standardised with the dataset statistics recorded in the shard header.</summary>
    public static DqsNormalization FromHeader(in DqsHeader header)
    {
        var mean = new float[header.Channels];
        var std = new float[header.Channels];
        for (var c = 0; c < header.Channels; c++)
        {
            mean[c] = header.ChannelMean[c] / 255f;
            std[c] = header.ChannelStandardDeviation[c] / 255f;
        }

        return Standardize(mean, std);
    }

    private static float[] Fill(int channels, float value)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        var values = new float[channels];
        Array.Fill(values, value);
        return values;
    }
}
