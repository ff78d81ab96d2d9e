using System.Globalization;
using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Coordinator.Publishing;

/// <summary>
/// Before a generator goes to the fleet: its manifest must load, describe the model as ONNX Runtime sees it, and say
/// it is a trained DiM (<c>kind: dim</c>); one batch is sampled so that a model that loads but cannot run is caught
/// here rather than on every device.
/// </summary>
internal static class GeneratorCheck
{
    public static string Describe(string generatorPath)
    {
        using var sampler = GeneratorSampler.Open(generatorPath, new GeneratorSamplerOptions { BatchSize = 4, Seed = 1 });
        var manifest = sampler.Manifest;
        var source = GeneratorManifest.PathFor(generatorPath);
        if (manifest.Kind != "dim")
        {
            throw new GeneratorManifestException(source, "kind", $"is '{manifest.Kind}'; only a trained DiM generator ('dim') is published to devices");
        }

        var pixels = new float[4 * manifest.SampleSize];
        var labels = new int[4];
        sampler.Sample(pixels, labels);
        if (!pixels.All(float.IsFinite))
        {
            throw new InvalidDataException($"generator '{generatorPath}' produced non-finite pixels");
        }

        var mixing = manifest.Mixing is { Count: > 0 } m
            ? string.Join(", ", m.Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.ShardBytes} B → {e.Ratio:0.##}")))
            : "none (devices use their FineTune:SyntheticRatio)";
        return string.Create(CultureInfo.InvariantCulture,
            $"generator {generatorPath}: {manifest.Dataset}, {manifest.ClassCount} classes, {manifest.Channels}x{manifest.Height}x{manifest.Width}; mixing rule: {mixing}");
    }
}
