using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;
using DatasetQuant.Training.Data;

namespace DatasetQuant.Training.Tests;

public sealed class DataSourceTests
{
    private static readonly Lazy<ImageDataset> Subset = new(() => DatasetSource.Load("fashion-mnist:test").Take(600));

    [Fact]
    public void Shards_at_8_bits_decode_to_what_the_original_images_give()
    {
        using var temp = new TempDirectory("dq-shards");
        var dataset = Subset.Value;
        var result = DatasetQuantizer.Quantize(dataset, new QuantizeOptions { Budget = Budget.FromBitsPerPixel(8), OutputDirectory = temp.Path });
        var normalization = new InputNormalization([0.2860f], [0.3530f]);
        using var shards = ShardDataSource.Open(result.ShardPaths, normalization);
        var images = new ImageDataSource(dataset, normalization);
        Assert.Equal(600, shards.Count);
        Assert.Equal(784, shards.SampleLength);
        Assert.Equal(10, shards.ClassCount);

        int[] indices = [599, 0, 17, 300];
        var fromShards = new float[4 * 784];
        var fromImages = new float[4 * 784];
        var shardLabels = new int[4];
        var imageLabels = new int[4];
        shards.ReadBatch(indices, fromShards, shardLabels);
        images.ReadBatch(indices, fromImages, imageLabels);
        Assert.Equal(imageLabels, shardLabels);
        var maxError = fromShards.Zip(fromImages, (a, b) => Math.Abs(a - b)).Max();

        // 8-bit symmetric codes around the mean are within one code step (≤ 2 grey levels) of the original.
        Assert.True(maxError <= 2.5f / 255f / 0.3530f, $"largest difference {maxError}");
        Assert.True(fromShards.Distinct().Count() > 50, "the batch decoded to almost constant values");
    }

    [Fact]
    public void A_mix_holds_every_real_sample_and_the_ratio_of_synthetic_ones_in_each_epoch()
    {
        var real = new InMemoryDataSource(Enumerable.Repeat(1f, 300 * 4).ToArray(), Enumerable.Range(0, 300).Select(i => i % 3).ToArray(), 4, 3, "real");
        var synthetic = new InMemoryDataSource(Enumerable.Repeat(-1f, 30 * 4).ToArray(), Enumerable.Range(0, 30).Select(i => i % 3).ToArray(), 4, 3, "generator");
        var mix = new MixedDataSource(real, synthetic, 0.25, maxBatch: 400);
        Assert.Equal(400, mix.Count);
        var samples = new float[400 * 4];
        var labels = new int[400];
        var order = Enumerable.Range(0, 400).Reverse().ToArray();
        mix.ReadBatch(order, samples, labels);
        Assert.Equal(300, Enumerable.Range(0, 400).Count(j => samples[j * 4] == 1f));
        Assert.Equal(100, Enumerable.Range(0, 400).Count(j => samples[j * 4] == -1f));
        Assert.Equal(order.Select(i => i < 300 ? i % 3 : (i - 300) % 30 % 3), labels);
    }

    [Fact]
    public void A_generator_with_another_class_count_or_sample_size_is_refused()
    {
        var real = new InMemoryDataSource(new float[10 * 4], new int[10], 4, 10, "shards/a.dqs");
        var fewer = new InMemoryDataSource(new float[10 * 4], new int[10], 4, 5, "g.onnx");
        var ex = Assert.Throws<InvalidDataException>(() => new MixedDataSource(real, fewer, 0.5, 16));
        Assert.Equal("g.onnx has 5 classes, shards/a.dqs has 10.", ex.Message);
        var bigger = new InMemoryDataSource(new float[10 * 8], new int[10], 8, 10, "g.onnx");
        ex = Assert.Throws<InvalidDataException>(() => new MixedDataSource(real, bigger, 0.5, 16));
        Assert.Equal("g.onnx makes samples of 8 values, shards/a.dqs holds 4.", ex.Message);
    }
}
