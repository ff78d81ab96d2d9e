using System.Runtime.InteropServices;
using DatasetQuant.Onnx.Generators;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;

namespace DatasetQuant.Onnx.Tests;

public sealed class GeneratorTests
{
    private static readonly Lazy<(LinearGaussianGenerator Generator, float[] Pixels, int[] Labels)> Fitted = new(() =>
    {
        var (pixels, labels) = FashionMnistSubset.Load(6000);
        return (LinearGaussianGenerator.Fit(pixels, labels, 10, 1, 28, 28, noiseSize: 100, maxBasisSamples: 3000), pixels, labels);
    });

    [Fact]
    public void Fitted_generator_samples_have_the_data_class_means()
    {
        var (generator, pixels, labels) = Fitted.Value;
        using var dir = new TempDirectory();
        var modelPath = Save(dir, generator.ToModel(), generator.ToManifest("fashion-mnist", [0.286f], [0.353f]));
        using var sampler = GeneratorSampler.Open(modelPath, new GeneratorSamplerOptions { Seed = 3, BatchSize = 100, Output = GeneratorOutputScale.UnitRange });

        const int perClass = 400;
        var drawn = new int[10 * perClass];
        var images = new float[drawn.Length * 784];
        sampler.Sample(images, drawn);

        // Balanced: exactly perClass of each class.
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(perClass, drawn.Count(l => l == c)));
        var errors = new double[10];
        for (var c = 0; c < 10; c++)
        {
            var sampleMean = MeanImage(images, drawn, c);
            var dataMean = MeanImage(pixels, labels, c);
            errors[c] = sampleMean.Zip(dataMean, (a, b) => Math.Abs(a - b)).Average();
        }

        // Tolerance: 0.05 per pixel on the [0,1] scale. Sampling noise of 400 draws is about 0.01; the rest is the
        // bias of clipping Gaussian tails at 0 and 1, largest for classes with dark backgrounds (the shared residual
        // basis gives them the pooled variance). Measured here: see the message.
        var report = string.Join(", ", errors.Select((e, c) => $"{c}:{e:F4}"));
        Assert.True(errors.Max() < 0.05, $"mean |sample mean - data mean| per class: {report}");
        Assert.True(errors.Average() < 0.035, $"mean |sample mean - data mean| per class: {report}");
    }

    [Fact]
    public void Fitted_basis_is_orthonormal_and_sorted_by_variance()
    {
        var generator = Fitted.Value.Generator;
        Assert.Equal(90, generator.Basis.Length);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(1.0, Dot(generator.Basis[i], generator.Basis[i]), 3);
            Assert.Equal(0.0, Dot(generator.Basis[i], generator.Basis[i + 1]), 3);
        }

        Assert.True(generator.Scales.Zip(generator.Scales.Skip(1), (a, b) => a >= b - 1e-4f).All(x => x));
        Assert.True(generator.Scales[0] > 0.5f, $"largest residual std {generator.Scales[0]}");
    }

    [Fact]
    public void Same_seed_gives_same_bytes_and_another_seed_does_not()
    {
        var (model, manifest) = SmallGenerator();
        using var dir = new TempDirectory();
        var path = Save(dir, model, manifest);

        float[] Draw(ulong seed, int batch)
        {
            using var sampler = GeneratorSampler.Open(path, new GeneratorSamplerOptions { Seed = seed, BatchSize = batch });
            var labels = new int[37];
            var output = new float[37 * sampler.SampleSize];
            sampler.Sample(output, labels);
            return output;
        }

        var a = Draw(42, 8);
        Assert.Equal(MemoryMarshal.AsBytes(a.AsSpan()).ToArray(), MemoryMarshal.AsBytes(Draw(42, 8).AsSpan()).ToArray());
        Assert.Equal(a, Draw(42, 16)); // batch size does not change the stream
        Assert.NotEqual(a, Draw(43, 8));
    }

    [Fact]
    public void Weighted_classes_follow_the_weights()
    {
        var (model, manifest) = SmallGenerator();
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        double[] weights = [0, 1, 3, 0, 0, 0, 0, 0, 0, 0];
        using var sampler = new GeneratorSampler(session, manifest, new GeneratorSamplerOptions { Seed = 1, ClassWeights = weights });
        var labels = new int[4000];
        sampler.Sample(new float[labels.Length * sampler.SampleSize], labels);

        Assert.DoesNotContain(labels, l => l is not (1 or 2));
        Assert.InRange(labels.Count(l => l == 2) / (double)labels.Length, 0.72, 0.78);
    }

    [Fact]
    public void Label_input_conditioning_feeds_int64_labels()
    {
        // out[n, 0, 0, 0] = label[n] (cast to float): proves the label tensor reaches the model as bound.
        var g = new OnnxGraph("label_echo");
        g.AddInput("z", OnnxElementType.Float, -1, 4);
        g.AddInput("y", OnnxElementType.Int64, -1);
        var f = g.Add("Cast", ["y"], null, OnnxAttribute.Int("to", (long)OnnxElementType.Float));
        var r = g.Reshape(f, [-1, 1, 1, 1]);
        var zeroTimesZ = g.Add("Mul", [g.Add("ReduceSum", ["z", g.AddInitializer("axes", [1L], 1)], null, OnnxAttribute.Int("keepdims", 1)), g.AddInitializer("zero", [0f])]);
        g.Add("Add", [r, g.Reshape(zeroTimesZ, [-1, 1, 1, 1])], "image");
        g.AddOutput("image", OnnxElementType.Float, -1, 1, 1, 1);
        var manifest = new GeneratorManifest
        {
            Conditioning = GeneratorManifest.LabelInput, NoiseInput = "z", LabelInputName = "y", NoiseSize = 4, ClassCount = 5,
            Channels = 1, Height = 1, Width = 1, ValueRange = [0f, 1f], Mean = [0f], Std = [1f],
        };
        using var session = OnnxSession.Load(OnnxModelWriter.Write(new OnnxModel(g)));
        using var sampler = new GeneratorSampler(session, manifest, new GeneratorSamplerOptions { BatchSize = 3, Output = GeneratorOutputScale.Raw });

        int[] labels = [4, 0, 3, 2, 1];
        var output = new float[5];
        sampler.SampleClasses(labels, output);

        Assert.Equal([4f, 0f, 3f, 2f, 1f], output);
    }

    [Fact]
    public void Dim_architecture_outputs_tanh_range_images_of_the_dataset_shape()
    {
        var (model, manifest) = DimGeneratorArchitecture.Build("fashion-mnist", seed: 1);
        using var session = OnnxSession.Load(OnnxModelWriter.Write(model));
        using var sampler = new GeneratorSampler(session, manifest, new GeneratorSamplerOptions { BatchSize = 2, Output = GeneratorOutputScale.Raw });
        var output = new float[2 * 784];
        sampler.Sample(output, new int[2]);

        Assert.Equal([-1L, 1L, 28L, 28L], session.Output("image").Shape);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
        Assert.True(output.Distinct().Count() > 100);
        Assert.Equal(18, model.Graph.Nodes.Count(n => n.OpType is "Conv" or "ConvTranspose" or "BatchNormalization" or "Gemm" or "Tanh"));
    }

    [Theory]
    [InlineData("noiseSize", 64)]
    [InlineData("output", 0)]
    [InlineData("channels/height/width", 0)]
    [InlineData("conditioning", 0)]
    public void Manifest_that_contradicts_the_model_names_the_field(string field, int noise)
    {
        var (model, manifest) = SmallGenerator();
        switch (field)
        {
            case "noiseSize":
                manifest.NoiseSize = noise;
                break;
            case "output":
                manifest.Output = "pixels";
                break;
            case "channels/height/width":
                manifest.Height = 32;
                break;
            case "conditioning":
                manifest.Conditioning = GeneratorManifest.LabelInput;
                manifest.LabelInputName = "label";
                break;
        }

        using var dir = new TempDirectory();
        var path = Save(dir, model, manifest);
        var ex = Assert.Throws<GeneratorManifestException>(() => GeneratorSampler.Open(path));
        Assert.Equal(field == "conditioning" ? "labelInput" : field, ex.Field);
        Assert.Contains("G.json", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_or_missing_manifest_is_one_clear_error()
    {
        var (model, manifest) = SmallGenerator();
        using var dir = new TempDirectory();
        var path = Save(dir, model, manifest);
        File.WriteAllText(GeneratorManifest.PathFor(path), "{ \"noiseSize\": \"many\" }");
        var ex = Assert.Throws<GeneratorManifestException>(() => GeneratorSampler.Open(path));
        Assert.Contains("noiseSize", ex.Message, StringComparison.Ordinal);

        File.Delete(GeneratorManifest.PathFor(path));
        Assert.Contains("does not exist", Assert.Throws<GeneratorManifestException>(() => GeneratorSampler.Open(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    [Trait("Category", "Simd")]
    public void Pixel_affine_matches_scalar_for_every_length()
    {
        var random = new Random(5);
        for (var n = 0; n < 70; n++)
        {
            var source = Enumerable.Range(0, n).Select(_ => (float)random.NextDouble() * 2 - 1).ToArray();
            var destination = new float[n];
            PixelAffine.Apply(source, destination, 1.7f, -0.3f);
            Assert.Equal(source.Select(x => x * 1.7f + -0.3f), destination);
        }
    }

    internal static (OnnxModel Model, GeneratorManifest Manifest) SmallGenerator()
    {
        // A tiny linear-Gaussian generator from synthetic data: fast, yet the real export path.
        var random = new Random(9);
        var labels = Enumerable.Range(0, 200).Select(i => i % 10).ToArray();
        var pixels = labels.SelectMany(l => Enumerable.Range(0, 64).Select(p => (float)Math.Clamp(l / 10.0 + 0.1 * random.NextDouble(), 0, 1))).ToArray();
        var generator = LinearGaussianGenerator.Fit(pixels, labels, 10, 1, 8, 8, noiseSize: 20);
        return (generator.ToModel(), generator.ToManifest("synthetic", [0.5f], [0.3f]));
    }

    private static string Save(TempDirectory dir, OnnxModel model, GeneratorManifest manifest)
    {
        var path = dir.File("G.onnx");
        OnnxModelWriter.WriteFile(model, path);
        manifest.Save(GeneratorManifest.PathFor(path));
        return path;
    }

    private static double[] MeanImage(float[] images, int[] labels, int c)
    {
        var sum = new double[784];
        var count = 0;
        for (var i = 0; i < labels.Length; i++)
        {
            if (labels[i] != c)
            {
                continue;
            }

            count++;
            for (var p = 0; p < 784; p++)
            {
                sum[p] += images[i * 784 + p];
            }
        }

        return sum.Select(s => s / count).ToArray();
    }

    private static double Dot(float[] a, float[] b) => a.Zip(b, (x, y) => (double)x * y).Sum();
}
