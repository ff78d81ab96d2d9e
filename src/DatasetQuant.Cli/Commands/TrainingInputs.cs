using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;

namespace DatasetQuant.Cli.Commands;

/// <summary>Opens what <c>dq train</c> and <c>dq eval</c> read: .dqs shards (files or folders) or a dataset spec.</summary>
internal static class TrainingInputs
{
    public static bool IsShardInput(string spec) =>
        spec.EndsWith(".dqs", StringComparison.OrdinalIgnoreCase) || Directory.Exists(spec);

    /// <summary>
    /// Shards decode with <paramref name="normalization"/> (the model's) or their own header statistics; a dataset spec is
    /// standardised with <paramref name="normalization"/> or, when the model carries none, its own statistics.
    /// </summary>
    public static ITrainingDataSource Open(IReadOnlyList<string> specs, InputNormalization? normalization)
    {
        if (specs.Count == 0)
        {
            throw new ArgumentException("no input given.");
        }

        if (specs.All(IsShardInput))
        {
            return ShardDataSource.Open(specs, normalization);
        }

        if (specs.Count != 1)
        {
            throw new ArgumentException($"give either .dqs shards/folders or one dataset spec ({DatasetSource.Grammar}), not '{string.Join(" ", specs)}'.");
        }

        var dataset = DatasetSource.Load(specs[0]);
        if (normalization is null)
        {
            var statistics = ChannelStatistics.Compute(dataset);
            normalization = new InputNormalization(
                Array.ConvertAll(statistics.Mean, m => m / 255f), Array.ConvertAll(statistics.StandardDeviation, s => Math.Max(s / 255f, 1e-6f)));
        }

        return new ImageDataSource(dataset, normalization);
    }

    public static InputNormalization? NormalizationOf(ITrainingDataSource source) => source switch
    {
        ShardDataSource shards => shards.Normalization,
        ImageDataSource images => images.Normalization,
        GeneratorDataSource generated => generated.Normalization,
        _ => null,
    };

    /// <summary>Opens the data only to read its normalisation (when it will not be trained on).</summary>
    public static ITrainingDataSource Peek(IReadOnlyList<string> specs)
    {
        var source = Open(specs, null);
        Close(source);
        return source;
    }

    public static void Close(ITrainingDataSource source)
    {
        if (source is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    internal static string Describe(DqsHeader header) => $"{header.Channels}x{header.Height}x{header.Width}, {header.ClassCount} classes";
}
