using System.Buffers.Binary;
using System.IO.Compression;
using DatasetQuant.Testing;
using DatasetQuant.Training.Data;

namespace DatasetQuant.Training.Tests;

/// <summary>The real Fashion-MNIST files, decoded and normalised once per test run (mean 0.2860, std 0.3530).</summary>
internal static class FashionMnist
{
    private static readonly Lazy<(float[] Images, int[] Labels)> Train = new(() => Load("train"));
    private static readonly Lazy<(float[] Images, int[] Labels)> Test = new(() => Load("t10k"));

    public static InMemoryDataSource TrainSubset(int count) => Subset(Train.Value, count, "fashion-mnist:train");

    public static InMemoryDataSource TestSubset(int count) => Subset(Test.Value, count, "fashion-mnist:test");

    private static InMemoryDataSource Subset((float[] Images, int[] Labels) set, int count, string name) =>
        new(set.Images.AsSpan(0, count * 784).ToArray(), set.Labels.AsSpan(0, count).ToArray(), 784, 10, name);

    private static (float[], int[]) Load(string prefix)
    {
        var images = ReadIdx(TestData.FashionMnist($"{prefix}-images-idx3-ubyte.gz"), 16);
        var labels = ReadIdx(TestData.FashionMnist($"{prefix}-labels-idx1-ubyte.gz"), 8);
        var pixels = new float[images.Length];
        for (var i = 0; i < images.Length; i++)
        {
            pixels[i] = ((images[i] / 255f) - 0.2860f) / 0.3530f;
        }

        return (pixels, labels.Select(b => (int)b).ToArray());
    }

    private static byte[] ReadIdx(string path, int headerSize)
    {
        using var gzip = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var memory = new MemoryStream();
        gzip.CopyTo(memory);
        var bytes = memory.ToArray();
        _ = BinaryPrimitives.ReadInt32BigEndian(bytes);
        return bytes[headerSize..];
    }
}
