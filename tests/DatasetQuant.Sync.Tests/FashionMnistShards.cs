using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>Real .dqs shards: the first Fashion-MNIST training images quantized at 8 bits per pixel.</summary>
internal static class FashionMnistShards
{
    private static readonly Lazy<ImageDataset> Train = new(() => IdxReader.Read(
        TestData.FashionMnist("train-images-idx3-ubyte.gz"), TestData.FashionMnist("train-labels-idx1-ubyte.gz"), "fashion-mnist"));

    public static string Write(string directory, int samples, long shardSize)
    {
        var source = Train.Value.Take(samples);
        var statistics = ChannelStatistics.Compute(source);
        var bits = new byte[samples];
        var parameters = new QuantizationParameters[samples];
        var pixels = new float[source.PixelsPerSample];
        for (var i = 0; i < samples; i++)
        {
            source.ReadPixels(i, pixels);
            bits[i] = 8;
            parameters[i] = new(SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(pixels, statistics.Mean, source.Height * source.Width), 8), 0);
        }

        DqsSetWriter.Write(source, statistics, bits, parameters, directory, "fmnist", shardSize);
        return directory;
    }
}
