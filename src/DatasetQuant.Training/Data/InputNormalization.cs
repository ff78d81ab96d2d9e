using System.Globalization;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Training.Data;

/// <summary>
/// The per-channel mean and standard deviation (on the [0, 1] scale) a model was trained with. It travels in the
/// model's ONNX metadata so that evaluation, fine-tuning and the model-based distortion measure feed the model
/// exactly what it saw in training, whatever the source of the data.
/// </summary>
public sealed record InputNormalization(float[] Mean, float[] StandardDeviation)
{
    public const string MeanKey = "dq.normalization.mean";
    public const string StdKey = "dq.normalization.std";

    public int Channels => Mean.Length;

    public static InputNormalization FromHeader(in DqsHeader header)
    {
        var mean = new float[header.Channels];
        var std = new float[header.Channels];
        for (var c = 0; c < mean.Length; c++)
        {
            mean[c] = header.ChannelMean[c] / 255f;
            std[c] = Math.Max(header.ChannelStandardDeviation[c] / 255f, 1e-6f);
        }

        return new InputNormalization(mean, std);
    }

    public DqsNormalization ToDqs() => DqsNormalization.Standardize(Mean, StandardDeviation);

    public Dictionary<string, string> ToMetadata() => new(StringComparer.Ordinal)
    {
        [MeanKey] = string.Join(',', Mean.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
        [StdKey] = string.Join(',', StandardDeviation.Select(v => v.ToString("R", CultureInfo.InvariantCulture))),
    };

    /// <summary>Reads the two metadata entries; null when the model does not carry them.</summary>
    public static InputNormalization? FromMetadata(IReadOnlyDictionary<string, string> metadata, string source)
    {
        if (!metadata.TryGetValue(MeanKey, out var meanText) || !metadata.TryGetValue(StdKey, out var stdText))
        {
            return null;
        }

        var mean = Parse(meanText, MeanKey, source);
        var std = Parse(stdText, StdKey, source);
        if (mean.Length != std.Length || mean.Length == 0 || std.Any(s => !(s > 0)))
        {
            throw new InvalidDataException($"ONNX model '{source}': metadata {MeanKey}='{meanText}' and {StdKey}='{stdText}' are not matching positive per-channel values.");
        }

        return new InputNormalization(mean, std);
    }

    /// <summary>Standardises pixels of sample on the [0, 1] scale, CHW, in place.</summary>
    public void ApplyToUnitScale(Span<float> samples, int pixelsPerSample)
    {
        var plane = pixelsPerSample / Channels;
        for (var start = 0; start + pixelsPerSample <= samples.Length; start += pixelsPerSample)
        {
            for (var c = 0; c < Channels; c++)
            {
                var values = samples.Slice(start + (c * plane), plane);
                System.Numerics.Tensors.TensorPrimitives.Subtract(values, Mean[c], values);
                System.Numerics.Tensors.TensorPrimitives.Multiply(values, 1f / StandardDeviation[c], values);
            }
        }
    }

    private static float[] Parse(string text, string key, string source)
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new float[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!float.TryParse(parts[i], NumberStyles.Float, CultureInfo.InvariantCulture, out values[i]) || !float.IsFinite(values[i]))
            {
                throw new InvalidDataException($"ONNX model '{source}': metadata {key} = '{text}' is not a list of numbers.");
            }
        }

        return values;
    }
}
