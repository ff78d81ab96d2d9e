using System.CommandLine;
using System.Diagnostics;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Onnx.Generators;
using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq generator fit</c> (a linear-Gaussian baseline in the DiM interface, from a dataset) and
/// <c>dq generator dim-arch</c> (the official DiM architecture with seeded random weights, for speed measurements).
/// Both write G.onnx and its manifest G.json.
/// </summary>
internal static class GeneratorCommand
{
    public static Command Create()
    {
        var command = new Command("generator", "Write generators in the DiM interface (G.onnx + G.json).");
        command.Subcommands.Add(Fit());
        command.Subcommands.Add(DimArch());
        command.Subcommands.Add(GeneratorTrainCommand.Create());
        return command;
    }

    private static Command Fit()
    {
        var input = new Option<string>("--input") { Description = $"Training data: {DatasetSource.Grammar}", Required = true };
        var output = new Option<string>("--out") { Description = "The .onnx file to write (the manifest goes beside it)", Required = true };
        var noise = new Option<int>("--noise") { Description = "Noise size: C one-hot entries, the rest latent dimensions", DefaultValueFactory = _ => 100 };
        var basisSamples = new Option<int>("--basis-samples") { Description = "Samples used to estimate the principal basis", DefaultValueFactory = _ => 10_000 };
        var limit = new Option<int>("--limit") { Description = "Use only the first N samples (0 = all)", DefaultValueFactory = _ => 0 };
        var command = new Command("fit", "Fit a class-conditional linear-Gaussian generator (class means + shared principal basis); a baseline, not a trained DiM.")
        {
            input, output, noise, basisSamples, limit,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var clock = Stopwatch.StartNew();
            var dataset = DatasetSource.Load(parse.GetValue(input)!);
            if (parse.GetValue(limit) > 0)
            {
                dataset = dataset.Take(parse.GetValue(limit));
            }

            var pixels = new float[(long)dataset.Count * dataset.PixelsPerSample];
            var all = dataset.AllPixels;
            for (var i = 0; i < pixels.Length; i++)
            {
                pixels[i] = all[i] / 255f;
            }

            var (mean, std) = ChannelMoments(pixels, dataset.Channels, dataset.Height * dataset.Width);
            var generator = LinearGaussianGenerator.Fit(pixels, dataset.Labels, dataset.ClassCount, dataset.Channels, dataset.Height,
                dataset.Width, parse.GetValue(noise), parse.GetValue(basisSamples));
            var path = parse.GetValue(output)!;
            OnnxModelWriter.WriteFile(generator.ToModel(), path);
            generator.ToManifest(dataset.Name, mean, std).Save(GeneratorManifest.PathFor(path));
            Console.WriteLine($"{dataset.Name}: {dataset.Count} samples of {dataset.Channels}x{dataset.Height}x{dataset.Width}, {dataset.ClassCount} classes");
            Console.WriteLine($"linear-Gaussian generator: noise {parse.GetValue(noise)} = {dataset.ClassCount} one-hot + {generator.Basis.Length} latent; " +
                              $"residual std along the first directions {string.Join(" ", generator.Scales.Take(5).Select(s => OnnxCommand.Format(s, "F3")))}");
            Console.WriteLine($"wrote {path} and {GeneratorManifest.PathFor(path)} in {OnnxCommand.Format(clock.Elapsed.TotalSeconds, "F1")} s");
            return 0;
        }));
        return command;
    }

    private static Command DimArch()
    {
        var dataset = new Option<string>("--dataset") { Description = "fashion-mnist | mnist | cifar10 | svhn", Required = true };
        var output = new Option<string>("--out") { Description = "The .onnx file to write (the manifest goes beside it)", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights", DefaultValueFactory = _ => 1UL };
        var command = new Command("dim-arch", "The official DiM generator architecture with seeded random weights (for timing; not trained).")
        {
            dataset, output, seed,
        };
        command.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var (model, manifest) = DimGeneratorArchitecture.Build(parse.GetValue(dataset)!, parse.GetValue(seed));
            var path = parse.GetValue(output)!;
            OnnxModelWriter.WriteFile(model, path);
            manifest.Save(GeneratorManifest.PathFor(path));
            var parameters = model.Graph.Initializers.Sum(t => t.ElementCount);
            Console.WriteLine($"DiM generator architecture for {manifest.Dataset}: noise [N,{manifest.NoiseSize}] -> image [N,{manifest.Channels},{manifest.Height},{manifest.Width}], {parameters} parameters, {model.Graph.Nodes.Count} nodes");
            Console.WriteLine($"wrote {path} ({new FileInfo(path).Length} bytes) and {GeneratorManifest.PathFor(path)}");
            return 0;
        }));
        return command;
    }

    private static (float[] Mean, float[] Std) ChannelMoments(float[] pixels, int channels, int plane)
    {
        var sum = new double[channels];
        var squares = new double[channels];
        var samples = pixels.Length / (channels * plane);
        for (var n = 0; n < samples; n++)
        {
            for (var c = 0; c < channels; c++)
            {
                var offset = (n * channels + c) * plane;
                for (var i = 0; i < plane; i++)
                {
                    double v = pixels[offset + i];
                    sum[c] += v;
                    squares[c] += v * v;
                }
            }
        }

        var count = (double)samples * plane;
        var mean = sum.Select(s => (float)(s / count)).ToArray();
        var std = squares.Select((s, c) => (float)Math.Sqrt(Math.Max(1e-12, s / count - mean[c] * (double)mean[c]))).ToArray();
        return (mean, std);
    }
}
