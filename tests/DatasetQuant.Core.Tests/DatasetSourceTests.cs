using System.Buffers.Binary;
using System.IO.Compression;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class DatasetSourceTests
{
    [Fact]
    public void Fashion_mnist_alone_means_train_and_test_is_the_10k_split()
    {
        var train = DatasetSource.Load("fashion-mnist");
        var test = Samples.FashionMnistTest;

        Assert.Equal((60000, 1, 28, 28, 10), (train.Count, train.Channels, train.Height, train.Width, train.ClassCount));
        Assert.Equal(10000, test.Count);
        // The first test image is an ankle boot (class 9), the first training image too.
        Assert.Equal(9, test.Label(0));
        Assert.Equal(9, train.Label(0));
        Assert.InRange(test.Pixels(0).ToArray().Max(), (byte)200, (byte)255);
    }

    [Fact]
    public void Idx_files_written_here_load_and_match()
    {
        using var dir = new TempDirectory();
        var pixels = new byte[3 * 4 * 5];
        new Random(3).NextBytes(pixels);
        WriteIdx(dir.File("img.idx.gz"), 0x08, [3, 4, 5], pixels, gzip: true);
        WriteIdx(dir.File("lbl.idx"), 0x08, [3], [2, 0, 7], gzip: false);

        var dataset = DatasetSource.Load($"idx:{dir.File("img.idx.gz")},{dir.File("lbl.idx")}");

        Assert.Equal((3, 4, 5, 8), (dataset.Count, dataset.Height, dataset.Width, dataset.ClassCount));
        Assert.Equal(pixels.AsSpan(20, 20).ToArray(), dataset.Pixels(1).ToArray());
        Assert.Equal(7, dataset.Label(2));
    }

    [Theory]
    [InlineData("magic", "magic")]
    [InlineData("truncated", "truncated")]
    [InlineData("lying", "2147483647")]
    [InlineData("count", "labels")]
    public void Bad_idx_files_are_named_in_the_error(string defect, string expected)
    {
        using var dir = new TempDirectory();
        var images = dir.File("img.idx");
        var labels = dir.File("lbl.idx");
        WriteIdx(images, 0x08, [2, 2, 2], new byte[8], gzip: false);
        WriteIdx(labels, 0x08, [defect == "count" ? 3 : 2], new byte[defect == "count" ? 3 : 2], gzip: false);
        switch (defect)
        {
            case "magic":
                File.WriteAllBytes(images, [1, 2, 3, 4, 0, 0, 0, 0]);
                break;
            case "truncated":
                File.WriteAllBytes(images, File.ReadAllBytes(images)[..^3]);
                break;
            case "lying":
                // The header promises 2^31−1 images: the reader must fail on the missing data, not allocate them.
                var bytes = File.ReadAllBytes(images);
                BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4), int.MaxValue);
                File.WriteAllBytes(images, bytes);
                break;
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DatasetFormatException>(() => DatasetSource.Load($"idx:{images},{labels}"));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16 << 20, "a lying header must not cause a large allocation");

        Assert.Contains(defect == "count" ? "lbl.idx" : "img.idx", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Cifar10_and_cifar100_batches_load_by_record_size()
    {
        using var dir = new TempDirectory();
        var ten = new byte[2 * 3073];
        new Random(1).NextBytes(ten);
        ten[0] = 3;
        ten[3073] = 9;
        File.WriteAllBytes(dir.File("data_batch_1.bin"), ten);
        var hundred = new byte[3074];
        new Random(2).NextBytes(hundred);
        hundred[0] = 4;
        hundred[1] = 77;
        File.WriteAllBytes(dir.File("train.bin"), hundred);

        var cifar10 = DatasetSource.Load($"cifar:{dir.File("data_batch_1.bin")},{dir.File("data_batch_1.bin")}");
        var cifar100 = DatasetSource.Load($"cifar:{dir.File("train.bin")}");

        Assert.Equal((4, 3, 32, 32, 10), (cifar10.Count, cifar10.Channels, cifar10.Height, cifar10.Width, cifar10.ClassCount));
        Assert.Equal([3, 9, 3, 9], cifar10.Labels.ToArray());
        Assert.Equal(ten.AsSpan(3074, 3072).ToArray(), cifar10.Pixels(1).ToArray());
        Assert.Equal((1, 100, 77), (cifar100.Count, cifar100.ClassCount, cifar100.Label(0)));
        Assert.Equal(hundred.AsSpan(2).ToArray(), cifar100.Pixels(0).ToArray());
    }

    [Fact]
    public void Cifar_file_of_wrong_length_is_named()
    {
        using var dir = new TempDirectory();
        File.WriteAllBytes(dir.File("bad.bin"), new byte[3073 + 5]);

        var error = Assert.Throws<DatasetFormatException>(() => DatasetSource.Load($"cifar:{dir.File("bad.bin")}"));

        Assert.Contains("bad.bin", error.Message, StringComparison.Ordinal);
        Assert.Contains("3073", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_channels_last_float_images_become_channels_first_bytes()
    {
        using var dir = new TempDirectory();
        // Two 2×2 RGB images, NHWC, float in [0, 1].
        var values = new float[2 * 2 * 2 * 3];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = i / (float)(values.Length - 1);
        }

        NpyWriter.Write(dir.File("x.npy"), values, 2, 2, 2, 3);
        NpyWriter.Write(dir.File("y.npy"), new long[] { 1, 4 }, 2);

        var dataset = DatasetSource.Load($"npy:{dir.File("x.npy")},{dir.File("y.npy")}");

        Assert.Equal((2, 3, 2, 2, 5), (dataset.Count, dataset.Channels, dataset.Height, dataset.Width, dataset.ClassCount));
        // Channel 1 of image 0 is HWC elements 1, 4, 7, 10.
        var expected = new[] { 1, 4, 7, 10 }.Select(k => (byte)MathF.Round(values[k] * 255f)).ToArray();
        Assert.Equal(expected, dataset.Pixels(0).Slice(4, 4).ToArray());
    }

    [Fact]
    public void Npy_round_trips_each_dtype_with_a_64_byte_aligned_header()
    {
        using var dir = new TempDirectory();
        NpyWriter.Write(dir.File("f.npy"), new[] { 1.5f, -2f, 3.25f, 0f, 9f, 1e-3f }, 2, 3);
        NpyWriter.Write(dir.File("b.npy"), new byte[] { 1, 2, 255 }, 3);
        NpyWriter.Write(dir.File("l.npy"), new long[] { long.MinValue, 7 }, 2);

        var f = NpyReader.Read(dir.File("f.npy"));
        var b = NpyReader.Read(dir.File("b.npy"));
        var l = NpyReader.Read(dir.File("l.npy"));

        Assert.Equal([2, 3], f.Shape);
        Assert.Equal(new[] { 1.5f, -2f, 3.25f, 0f, 9f, 1e-3f }, f.AsSingles().ToArray());
        Assert.Equal(new byte[] { 1, 2, 255 }, b.Data);
        Assert.Equal(new[] { long.MinValue, 7 }, l.ToInt64());
        Assert.Equal(0, (new FileInfo(dir.File("f.npy")).Length - 24) % 64);
        Assert.StartsWith("\u0093NUMPY", System.Text.Encoding.Latin1.GetString(File.ReadAllBytes(dir.File("l.npy"))[..6]), StringComparison.Ordinal);
    }

    [Fact]
    public void Npy_whose_shape_lies_about_the_data_is_named()
    {
        using var dir = new TempDirectory();
        NpyWriter.Write(dir.File("x.npy"), new byte[] { 1, 2, 3, 4 }, 4);
        var bytes = File.ReadAllBytes(dir.File("x.npy"));
        File.WriteAllBytes(dir.File("x.npy"), bytes[..^1]);

        var error = Assert.Throws<DatasetFormatException>(() => NpyReader.Read(dir.File("x.npy")));

        Assert.Contains("x.npy", error.Message, StringComparison.Ordinal);
        Assert.Contains("needs 4 data bytes", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Unknown_spec_lists_the_grammar()
    {
        var error = Assert.Throws<DatasetFormatException>(() => DatasetSource.Load("png:foo"));
        Assert.Contains("idx:", error.Message, StringComparison.Ordinal);
    }

    private static void WriteIdx(string path, byte type, int[] dims, byte[] data, bool gzip)
    {
        using var file = File.Create(path);
        using Stream stream = gzip ? new GZipStream(file, CompressionLevel.Fastest) : file;
        stream.Write([0, 0, type, (byte)dims.Length]);
        Span<byte> dim = stackalloc byte[4];
        foreach (var d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(dim, d);
            stream.Write(dim);
        }

        stream.Write(data);
    }
}
