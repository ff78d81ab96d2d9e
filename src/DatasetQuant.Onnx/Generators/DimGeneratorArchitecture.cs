using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// The official DiM generator's layer stack with seeded random weights and BatchNorm in eval mode, so that sampling
/// speed can be measured on the real architecture without trained weights:
/// Linear 100→196·4·4 + BN + ReLU, ConvTranspose 196→196 (k4 s2 p1, k3 for 28×28) + BN + ReLU,
/// three 3×3 Conv + BN + ReLU, ConvTranspose k4 s2 p1 + BN + ReLU, 3×3 Conv + BN + ReLU,
/// ConvTranspose k4 s2 p1 + BN + ReLU, 3×3 Conv to C channels, tanh.
/// </summary>
public static class DimGeneratorArchitecture
{
    public const int Width = 196;
    public const int NoiseSize = 100;

    public static (OnnxModel Model, GeneratorManifest Manifest) Build(string dataset, ulong seed)
    {
        var (channels, size, mean, std) = dataset.ToLowerInvariant() switch
        {
            "fashion-mnist" or "fashionmnist" => (1, 28, new[] { 0.2860f }, new[] { 0.3530f }),
            "mnist" => (1, 28, new[] { 0.1307f }, new[] { 0.3081f }),
            "cifar10" or "cifar-10" => (3, 32, new[] { 0.4914f, 0.4822f, 0.4465f }, new[] { 0.2470f, 0.2435f, 0.2616f }),
            "svhn" => (3, 32, new[] { 0.4377f, 0.4438f, 0.4728f }, new[] { 0.1980f, 0.2010f, 0.1970f }),
            _ => throw new ArgumentException($"Unknown dataset '{dataset}': expected fashion-mnist, mnist, cifar10 or svhn.", nameof(dataset)),
        };

        var random = new DeterministicRandom(seed);
        var g = new OnnxGraph($"dim_generator_{dataset}");
        var x = g.AddInput("noise", OnnxElementType.Float, -1, NoiseSize);

        x = g.Gemm(x, "fc", Kaiming(ref random, NoiseSize, Width * 16 * NoiseSize), Small(ref random, Width * 16), NoiseSize, Width * 16);
        x = g.Reshape(x, [-1, Width, 4, 4]);
        x = BnRelu(g, x, "fc.bn", ref random);

        x = g.ConvTranspose(x, "up1", Kaiming(ref random, Width * (size == 28 ? 9 : 16), Width * Width * (size == 28 ? 9 : 16)),
            Small(ref random, Width), Width, Width, size == 28 ? 3 : 4, 2, 1);
        x = BnRelu(g, x, "up1.bn", ref random);
        for (var i = 0; i < 3; i++)
        {
            x = ConvBnRelu(g, x, $"conv{i + 1}", ref random);
        }

        x = g.ConvTranspose(x, "up2", Kaiming(ref random, Width * 16, Width * Width * 16), Small(ref random, Width), Width, Width, 4, 2, 1);
        x = BnRelu(g, x, "up2.bn", ref random);
        x = ConvBnRelu(g, x, "conv4", ref random);
        x = g.ConvTranspose(x, "up3", Kaiming(ref random, Width * 16, Width * Width * 16), Small(ref random, Width), Width, Width, 4, 2, 1);
        x = BnRelu(g, x, "up3.bn", ref random);
        x = g.Conv(x, "to_image", Kaiming(ref random, Width * 9, channels * Width * 9), Small(ref random, channels), Width, channels, 3, 1, 1);
        g.Tanh(x, "image");
        g.AddOutput("image", OnnxElementType.Float, -1, channels, size, size);

        var model = new OnnxModel(g) { DocString = $"DiM generator architecture for {dataset} with seeded random weights (seed {seed}); not trained." };
        var manifest = new GeneratorManifest
        {
            Kind = "dim-random",
            Dataset = dataset.ToLowerInvariant(),
            Conditioning = GeneratorManifest.OneHotPrefix,
            NoiseInput = "noise",
            Output = "image",
            NoiseSize = NoiseSize,
            ClassCount = 10,
            Channels = channels,
            Height = size,
            Width = size,
            ValueRange = [-1f, 1f],
            Mean = mean,
            Std = std,
        };
        return (model, manifest);
    }

    private static string ConvBnRelu(OnnxGraph g, string x, string name, ref DeterministicRandom random)
    {
        x = g.Conv(x, name, Kaiming(ref random, Width * 9, Width * Width * 9), Small(ref random, Width), Width, Width, 3, 1, 1);
        return BnRelu(g, x, name + ".bn", ref random);
    }

    private static string BnRelu(OnnxGraph g, string x, string name, ref DeterministicRandom random)
    {
        var scale = new float[Width];
        var bias = new float[Width];
        var mean = new float[Width];
        var variance = new float[Width];
        for (var i = 0; i < Width; i++)
        {
            scale[i] = 1f + 0.1f * random.NextGaussian();
            bias[i] = 0.05f * random.NextGaussian();
            mean[i] = 0.1f * random.NextGaussian();
            variance[i] = 1f + 0.1f * (float)random.NextDouble();
        }

        return g.Relu(g.BatchNorm(x, name, scale, bias, mean, variance));
    }

    /// <summary>He-normal weights for a layer with <paramref name="fanIn"/> inputs per output.</summary>
    private static float[] Kaiming(ref DeterministicRandom random, int fanIn, int count)
    {
        var std = MathF.Sqrt(2f / fanIn);
        var w = new float[count];
        for (var i = 0; i < w.Length; i++)
        {
            w[i] = random.NextGaussian() * std;
        }

        return w;
    }

    private static float[] Small(ref DeterministicRandom random, int count)
    {
        var b = new float[count];
        for (var i = 0; i < b.Length; i++)
        {
            b[i] = 0.01f * random.NextGaussian();
        }

        return b;
    }
}
