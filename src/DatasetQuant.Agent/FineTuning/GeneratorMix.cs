using System.Globalization;
using System.Text.Json;
using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>Which generator a fine-tuning run samples and what share of each epoch it draws, with the reason.</summary>
/// <param name="Path">The generator's .onnx; null for none.</param>
public readonly record struct GeneratorMix(string? Path, double Ratio, string Reason)
{
    /// <summary>
    /// A configured generator wins over a pushed one; a configured ratio wins over the generator manifest's mixing
    /// rule, which the coordinator side measured on the bytes-versus-accuracy frontier (0 where mixing cost accuracy).
    /// </summary>
    public static GeneratorMix Choose(string? configuredPath, double? configuredRatio, string dataDirectory, long shardBytes)
    {
        var path = string.IsNullOrEmpty(configuredPath) ? FindPushed(dataDirectory) : configuredPath;
        if (path is null)
        {
            return new GeneratorMix(null, 0, PushedButNotHeld(dataDirectory) is { } name
                ? $"'{name}' was pushed but is not held here: it does not fit this device's budget, or its mixing rule gives no share at it (the shards got its bytes)"
                : "none configured or pushed");
        }

        var origin = string.IsNullOrEmpty(configuredPath) ? "pushed" : "configured";
        if (configuredRatio is { } ratio)
        {
            return new GeneratorMix(path, ratio, string.Create(CultureInfo.InvariantCulture, $"{origin}, share {ratio:0.##} from FineTune:SyntheticRatio"));
        }

        var manifest = GeneratorManifest.Load(GeneratorManifest.PathFor(path));
        return manifest.MixingRatioFor(shardBytes) is { } measured
            ? new GeneratorMix(path, measured, string.Create(CultureInfo.InvariantCulture,
                $"{origin}, share {measured:0.##} from its mixing rule at {shardBytes} shard bytes{(measured == 0 ? " (the frontier found no gain there)" : string.Empty)}"))
            : new GeneratorMix(path, 0, $"{origin}, but its manifest has no mixing rule and FineTune:SyntheticRatio is not set");
    }

    /// <summary>
    /// A generator the coordinator pushed (kind <c>generator</c> in the sync state) whose model the sync layer did not
    /// keep; null when there is none or the state cannot be read (then the run just says no generator is held).
    /// </summary>
    private static string? PushedButNotHeld(string dataDirectory)
    {
        var statePath = System.IO.Path.Combine(dataDirectory, "sync-state.json");
        try
        {
            using var state = JsonDocument.Parse(File.ReadAllBytes(statePath));
            foreach (var dataset in state.RootElement.GetProperty("datasets").EnumerateObject())
            {
                if (dataset.Value.TryGetProperty("signed", out var signed) && signed.TryGetProperty("manifest", out var manifest)
                    && manifest.TryGetProperty("kind", out var kind) && kind.ValueKind == JsonValueKind.String && kind.GetString() == "generator")
                {
                    return dataset.Name;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException or KeyNotFoundException or InvalidOperationException)
        {
            // No state yet (FileNotFoundException is an IOException), or not the shape written by the sync layer.
        }

        return null;
    }

    /// <summary>
    /// The newest generator the coordinator pushed: a dataset directory under <c>{data}/datasets</c> that holds a
    /// <c>.onnx</c> with its <c>.json</c> manifest beside it (a push of kind <c>generator</c> writes exactly those two).
    /// </summary>
    public static string? FindPushed(string dataDirectory)
    {
        var datasets = System.IO.Path.Combine(dataDirectory, "datasets");
        if (!Directory.Exists(datasets))
        {
            return null;
        }

        return Directory.EnumerateDirectories(datasets)
            .SelectMany(dir => Directory.EnumerateFiles(dir, "*.onnx"))
            .Where(model => File.Exists(GeneratorManifest.PathFor(model)))
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
    }
}
