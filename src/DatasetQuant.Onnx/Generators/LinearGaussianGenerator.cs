using System.Numerics;
using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Generators;

/// <summary>
/// A class-conditional linear-Gaussian generator: x = μ_y + Σ_k z_k·√λ_k·u_k, with μ_y the class means and u_k the
/// top principal directions of the within-class residuals. Exported with the official DiM interface (noise [N,100]
/// whose first C entries are the one-hot label, output in [-1,1]) so it can sit in the generator slot. It is a
/// baseline, not a trained DiM GAN: samples are blurry class prototypes with Gaussian variation.
/// </summary>
public sealed class LinearGaussianGenerator
{
    private LinearGaussianGenerator(int classCount, int channels, int height, int width, float[][] means, float[][] basis, float[] scales)
    {
        ClassCount = classCount;
        Channels = channels;
        Height = height;
        Width = width;
        Means = means;
        Basis = basis;
        Scales = scales;
    }

    public int ClassCount { get; }

    public int Channels { get; }

    public int Height { get; }

    public int Width { get; }

    /// <summary>Per-class mean image in [0,1] pixels.</summary>
    public float[][] Means { get; }

    /// <summary>Orthonormal principal directions of the within-class residuals, largest variance first.</summary>
    public float[][] Basis { get; }

    /// <summary>√λ_k: the residual standard deviation along each direction.</summary>
    public float[] Scales { get; }

    /// <summary>
    /// Fits from <paramref name="pixels"/> ([N, C·H·W], values in [0,1]) and labels. The basis is estimated from at most
    /// <paramref name="maxBasisSamples"/> evenly spaced samples (the covariance costs N·D²/2).
    /// </summary>
    public static LinearGaussianGenerator Fit(ReadOnlySpan<float> pixels, ReadOnlySpan<int> labels, int classCount,
        int channels, int height, int width, int noiseSize = 100, int maxBasisSamples = 10_000, ulong seed = 1)
    {
        var d = channels * height * width;
        var n = labels.Length;
        if (n == 0 || pixels.Length != (long)n * d)
        {
            throw new ArgumentException($"Need [N,{d}] pixels for {n} labels; got {pixels.Length} floats.", nameof(pixels));
        }

        var latent = noiseSize - classCount;
        if (latent < 0 || latent > d)
        {
            throw new ArgumentOutOfRangeException(nameof(noiseSize), $"Noise size {noiseSize} leaves {latent} latent dimensions after {classCount} classes (must be 0..{d}).");
        }

        var means = ClassMeans(pixels, labels, classCount, d);
        var covariance = ResidualCovariance(pixels, labels, means, d, maxBasisSamples);
        var (basis, variances) = TopEigenvectors(covariance, d, latent, seed);
        var scales = variances.Select(v => (float)Math.Sqrt(Math.Max(0, v))).ToArray();
        return new LinearGaussianGenerator(classCount, channels, height, width, means, basis, scales);
    }

    /// <summary>The ONNX graph: Gemm(noise, W) with W = [2·means; 2·√λ·u] and bias −1, clipped to [−1,1], reshaped to NCHW.</summary>
    public OnnxModel ToModel(string name = "linear_gaussian_generator")
    {
        var d = Channels * Height * Width;
        var z = ClassCount + Basis.Length;
        var weight = new float[d * z]; // [out = d, in = z] as Gemm with transB=1 expects
        for (var i = 0; i < d; i++)
        {
            var row = weight.AsSpan(i * z, z);
            for (var c = 0; c < ClassCount; c++)
            {
                row[c] = 2f * Means[c][i];
            }

            for (var k = 0; k < Basis.Length; k++)
            {
                row[ClassCount + k] = 2f * Scales[k] * Basis[k][i];
            }
        }

        var bias = new float[d];
        Array.Fill(bias, -1f);
        var g = new OnnxGraph(name);
        var x = g.AddInput("noise", OnnxElementType.Float, -1, z);
        x = g.Gemm(x, "affine", weight, bias, z, d);
        var lo = g.AddInitializer("clip_min", [-1f]);
        var hi = g.AddInitializer("clip_max", [1f]);
        x = g.Add("Clip", [x, lo, hi]);
        g.Reshape(x, [-1, Channels, Height, Width], output: "image");
        g.AddOutput("image", OnnxElementType.Float, -1, Channels, Height, Width);
        return new OnnxModel(g)
        {
            DocString = "Class-conditional linear-Gaussian baseline in the DiM generator interface (not a trained DiM GAN).",
        };
    }

    public GeneratorManifest ToManifest(string dataset, float[] mean, float[] std) => new()
    {
        Kind = "linear-gaussian",
        Dataset = dataset,
        Conditioning = GeneratorManifest.OneHotPrefix,
        NoiseInput = "noise",
        Output = "image",
        NoiseSize = ClassCount + Basis.Length,
        ClassCount = ClassCount,
        Channels = Channels,
        Height = Height,
        Width = Width,
        ValueRange = [-1f, 1f],
        Mean = mean,
        Std = std,
    };

    private static float[][] ClassMeans(ReadOnlySpan<float> pixels, ReadOnlySpan<int> labels, int classCount, int d)
    {
        var sums = new double[classCount][];
        var counts = new int[classCount];
        for (var c = 0; c < classCount; c++)
        {
            sums[c] = new double[d];
        }

        for (var i = 0; i < labels.Length; i++)
        {
            var y = labels[i];
            if ((uint)y >= (uint)classCount)
            {
                throw new ArgumentException($"Label {y} of sample {i} is outside 0..{classCount - 1}.", nameof(labels));
            }

            counts[y]++;
            var row = pixels.Slice(i * d, d);
            var sum = sums[y];
            for (var j = 0; j < d; j++)
            {
                sum[j] += row[j];
            }
        }

        var means = new float[classCount][];
        for (var c = 0; c < classCount; c++)
        {
            if (counts[c] == 0)
            {
                throw new ArgumentException($"Class {c} has no samples; every class needs at least one to fit a mean.", nameof(labels));
            }

            means[c] = sums[c].Select(s => (float)(s / counts[c])).ToArray();
        }

        return means;
    }

    private static float[] ResidualCovariance(ReadOnlySpan<float> pixels, ReadOnlySpan<int> labels, float[][] means, int d, int maxSamples)
    {
        var n = labels.Length;
        var used = Math.Min(n, Math.Max(1, maxSamples));
        var covariance = new float[d * d];
        var residual = new float[d];
        for (var s = 0; s < used; s++)
        {
            var i = (int)((long)s * n / used);
            var row = pixels.Slice(i * d, d);
            var mean = means[labels[i]];
            for (var j = 0; j < d; j++)
            {
                residual[j] = row[j] - mean[j];
            }

            // Upper triangle only: C[j, j..] += r_j · r[j..]
            for (var j = 0; j < d; j++)
            {
                Axpy(residual[j], residual.AsSpan(j), covariance.AsSpan(j * d + j, d - j));
            }
        }

        var scale = 1f / used;
        for (var j = 0; j < d; j++)
        {
            for (var k = j; k < d; k++)
            {
                var v = covariance[j * d + k] * scale;
                covariance[j * d + k] = v;
                covariance[k * d + j] = v;
            }
        }

        return covariance;
    }

    /// <summary>Block power iteration on the covariance followed by Rayleigh–Ritz on the K×K projection.</summary>
    private static (float[][] Basis, double[] Variances) TopEigenvectors(float[] covariance, int d, int k, ulong seed)
    {
        if (k == 0)
        {
            return ([], []);
        }

        var random = new DeterministicRandom(seed);
        var q = new float[k][];
        for (var i = 0; i < k; i++)
        {
            q[i] = new float[d];
            for (var j = 0; j < d; j++)
            {
                q[i][j] = random.NextGaussian();
            }
        }

        Orthonormalize(q);
        var product = new float[k][];
        for (var i = 0; i < k; i++)
        {
            product[i] = new float[d];
        }

        for (var iteration = 0; iteration < 30; iteration++)
        {
            for (var i = 0; i < k; i++)
            {
                MatVec(covariance, d, q[i], product[i]);
            }

            (q, product) = (product, q);
            Orthonormalize(q);
        }

        // Rayleigh–Ritz: T = Qᵀ C Q, rotate Q by T's eigenvectors.
        for (var i = 0; i < k; i++)
        {
            MatVec(covariance, d, q[i], product[i]);
        }

        var t = new double[k, k];
        for (var i = 0; i < k; i++)
        {
            for (var j = 0; j < k; j++)
            {
                t[i, j] = Dot(q[i], product[j]);
            }
        }

        for (var i = 0; i < k; i++)
        {
            for (var j = i + 1; j < k; j++)
            {
                t[i, j] = t[j, i] = 0.5 * (t[i, j] + t[j, i]);
            }
        }

        var (values, vectors) = SymmetricEigen.Decompose(t);
        var basis = new float[k][];
        for (var j = 0; j < k; j++)
        {
            var u = new double[d];
            for (var i = 0; i < k; i++)
            {
                var w = vectors[i, j];
                for (var x = 0; x < d; x++)
                {
                    u[x] += w * q[i][x];
                }
            }

            basis[j] = u.Select(v => (float)v).ToArray();
        }

        Orthonormalize(basis);
        return (basis, values);
    }

    private static void Orthonormalize(float[][] vectors)
    {
        for (var i = 0; i < vectors.Length; i++)
        {
            for (var pass = 0; pass < 2; pass++)
            {
                for (var j = 0; j < i; j++)
                {
                    Axpy(-(float)Dot(vectors[i], vectors[j]), vectors[j], vectors[i]);
                }
            }

            var norm = Math.Sqrt(Dot(vectors[i], vectors[i]));
            var inv = norm > 1e-20 ? (float)(1 / norm) : 0f;
            var v = vectors[i];
            for (var x = 0; x < v.Length; x++)
            {
                v[x] *= inv;
            }
        }
    }

    private static void MatVec(float[] matrix, int d, float[] vector, float[] result)
    {
        for (var row = 0; row < d; row++)
        {
            result[row] = (float)Dot(matrix.AsSpan(row * d, d), vector);
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var i = 0;
        var acc = Vector<float>.Zero;
        for (; i <= a.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            acc += new Vector<float>(a[i..]) * new Vector<float>(b[i..]);
        }

        double sum = Vector.Sum(acc);
        for (; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }

    private static void Axpy(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        var i = 0;
        var a = new Vector<float>(alpha);
        for (; i <= y.Length - Vector<float>.Count; i += Vector<float>.Count)
        {
            (new Vector<float>(y[i..]) + a * new Vector<float>(x[i..])).CopyTo(y[i..]);
        }

        for (; i < y.Length; i++)
        {
            y[i] += alpha * x[i];
        }
    }
}
