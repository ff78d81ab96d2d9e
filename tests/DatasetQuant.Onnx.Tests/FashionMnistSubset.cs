using System.Buffers.Binary;
using System.IO.Compression;
using DatasetQuant.Testing;

namespace DatasetQuant.Onnx.Tests;

/// <summary>The first N Fashion-MNIST training images as [0,1] floats, read straight from Debian's IDX files.</summary>
internal static class FashionMnistSubset
{
    public static (float[] Pixels, int[] Labels) Load(int count)
    {
        using var images = new GZipStream(File.OpenRead(TestData.FashionMnist("train-images-idx3-ubyte.gz")), CompressionMode.Decompress);
        using var labels = new GZipStream(File.OpenRead(TestData.FashionMnist("train-labels-idx1-ubyte.gz")), CompressionMode.Decompress);
        var imageHeader = new byte[16];
        images.ReadExactly(imageHeader);
        Assert.Equal(2051, BinaryPrimitives.ReadInt32BigEndian(imageHeader));
        var labelHeader = new byte[8];
        labels.ReadExactly(labelHeader);
        var raw = new byte[count * 784];
        images.ReadExactly(raw);
        var rawLabels = new byte[count];
        labels.ReadExactly(rawLabels);
        return (raw.Select(b => b / 255f).ToArray(), rawLabels.Select(b => (int)b).ToArray());
    }
}
