using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>Real Fashion-MNIST, loaded once per test run, and small shards made from it.</summary>
internal static class Samples
{
    private static readonly Lazy<ImageDataset> LazyTest = new(() => DatasetSource.Load("fashion-mnist:test"));

    public static ImageDataset FashionMnistTest => LazyTest.Value;

    /// <summary>Quantizes the first <paramref name="count"/> test samples into <paramref name="directory"/>.</summary>
    public static QuantizeResult Quantize(string directory, int count, string budget, string allocator = "adaptive", long shardSize = 64L << 20)
    {
        var options = new QuantizeOptions
        {
            Budget = Budget.Parse(budget),
            OutputDirectory = directory,
            Allocator = BitAllocators.Create(allocator),
            ShardSizeBytes = shardSize,
            ShardPrefix = "test",
        };
        return DatasetQuantizer.Quantize(FashionMnistTest.Take(count), options);
    }

    /// <summary>A 64-sample shard with every width 1..8 present, as bytes, in version 2.0 or (<paramref name="versionMajor"/> 1) 1.1.</summary>
    public static byte[] SmallShard(TempDirectory directory, int versionMajor = DqsConstants.VersionMajor)
    {
        var dataset = FashionMnistTest.Take(64);
        var statistics = ChannelStatistics.Compute(dataset);
        var bits = new byte[64];
        var parameters = new QuantizationParameters[64];
        var values = new float[dataset.PixelsPerSample];
        for (var i = 0; i < 64; i++)
        {
            bits[i] = (byte)(i % 9);
            dataset.ReadPixels(i, values);
            // Shifts from −40 to +40 so that every decoder sees centres on both sides of the mean.
            parameters[i] = bits[i] == 0 ? default : new(SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(values, statistics.Mean, 784), bits[i]), ((i % 5) - 2) * 20);
        }

        var paths = DqsSetWriter.Write(dataset, statistics, bits, parameters, directory.Path, "small", 64L << 20);
        if (versionMajor == 1)
        {
            CopyAsVersion1(paths.Single());
        }

        return File.ReadAllBytes(paths.Single());
    }

    /// <summary>Rewrites a shard in place as version 1.1, sample by sample (records, codes and header as they are).</summary>
    public static void CopyAsVersion1(string path)
    {
        var copy = path + ".v1";
        using (var reader = DqsReader.Open(path))
        {
            var h = reader.Header;
            var template = new DqsHeader(h.Channels, h.Height, h.Width, h.ClassCount, h.SampleCount, h.ShardIndex, h.ShardCount,
                h.FirstSourceIndex, h.SourceCount, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation]) { VersionMajor = 1 };
            using var writer = new DqsShardWriter(copy, template);
            for (var i = 0; i < reader.Count; i++)
            {
                var record = reader.Record(i);
                writer.Append(record.Label, record.Bits, record.Parameters, reader.Payload(i));
            }

            writer.Commit();
        }

        File.Move(copy, path, overwrite: true);
    }

    /// <summary>Each image, its transpose and its negative as three channels; labels spread over <paramref name="classCount"/> classes.</summary>
    public static ImageDataset ThreeChannels(ImageDataset source, int classCount)
    {
        var side = source.Width;
        var plane = side * side;
        var pixels = new byte[source.Count * 3 * plane];
        var labels = new int[source.Count];
        for (var i = 0; i < source.Count; i++)
        {
            var image = source.Pixels(i);
            var target = pixels.AsSpan(i * 3 * plane, 3 * plane);
            for (var y = 0; y < side; y++)
            {
                for (var x = 0; x < side; x++)
                {
                    target[(y * side) + x] = image[(y * side) + x];
                    target[plane + (y * side) + x] = image[(x * side) + y];
                    target[(2 * plane) + (y * side) + x] = (byte)(255 - image[(y * side) + x]);
                }
            }

            labels[i] = (source.Label(i) + (source.ClassCount * i)) % classCount;
        }

        return new ImageDataset("fashion-mnist-3ch", 3, side, side, classCount, pixels, labels);
    }
}
