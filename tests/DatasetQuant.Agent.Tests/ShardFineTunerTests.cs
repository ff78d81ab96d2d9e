using DatasetQuant.Agent.Configuration;
using DatasetQuant.Agent.FineTuning;
using DatasetQuant.Agent.Onnx;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Onnx.Generators;
using DatasetQuant.Onnx.Model;
using DatasetQuant.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Tests;

/// <summary>The real trainer on real Fashion-MNIST shards as sync leaves them under {data}/datasets/{name}/.</summary>
public sealed class ShardFineTunerTests : IDisposable
{
    private static readonly EffectiveOnnxRuntimeSettings Cpu = new("cpu", 2, 1, false, null);
    private readonly TempDirectory _data = new("finetune");

    public void Dispose() => _data.Dispose();

    private static ShardFineTuner Trainer(int epochs = 2, string? generator = null, double? ratio = 0.25) =>
        new(Options.Create(new FineTuneOptions { Epochs = epochs, GeneratorPath = generator, SyntheticRatio = ratio }), NullLogger<ShardFineTuner>.Instance);

    private FineTuneRequest Request() => new(FineTuneTrigger.NewData, _data.Path, 1L << 30, 0.1, Cpu);

    private void WriteShards(int samples)
    {
        var directory = Path.Combine(_data.Path, "datasets", "fmnist");
        Directory.CreateDirectory(directory);
        var train = IdxReader.Read(
            TestData.FashionMnist("train-images-idx3-ubyte.gz"), TestData.FashionMnist("train-labels-idx1-ubyte.gz"), "fashion-mnist");
        var source = train.Take(samples);
        var statistics = ChannelStatistics.Compute(source);
        var bits = new byte[samples];
        var parameters = new QuantizationParameters[samples];
        var pixels = new float[source.PixelsPerSample];
        for (var i = 0; i < samples; i++)
        {
            source.ReadPixels(i, pixels);
            bits[i] = 4;
            parameters[i] = new(SampleQuantizer.ScaleFor(SampleQuantizer.MaxAbsResidual(pixels, statistics.Mean, source.Height * source.Width), 4), 0);
        }

        DqsSetWriter.Write(source, statistics, bits, parameters, directory, "fmnist", 1 << 20);
    }

    [Fact]
    public async Task Fine_tunes_from_the_held_shards_measures_held_out_accuracy_and_continues_from_its_model()
    {
        WriteShards(3000);

        var first = await Trainer().FineTuneAsync(Request(), CancellationToken.None);
        var second = await Trainer().FineTuneAsync(Request(), CancellationToken.None);

        Assert.True(first.Completed, first.Message);
        Assert.Equal(300, first.HeldOutSamples);
        Assert.Equal(2700, first.TrainSamples);
        Assert.InRange(first.HeldOutAccuracy!.Value, 0.65, 1.0);
        Assert.True(File.Exists(first.ModelPath));

        // The second run starts from the first model, so it ends at least about as good (same held-out samples).
        Assert.True(second.HeldOutAccuracy >= first.HeldOutAccuracy - 0.03, $"{first.HeldOutAccuracy} then {second.HeldOutAccuracy}");
    }

    [Fact]
    public async Task Cancelled_mid_run_it_leaves_the_previous_model_untouched()
    {
        WriteShards(3000);
        var done = await Trainer(epochs: 1).FineTuneAsync(Request(), CancellationToken.None);
        var before = File.ReadAllBytes(done.ModelPath!);

        // Far more epochs than could finish before the cancellation, even if a loaded machine runs its timer seconds late.
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Trainer(epochs: 10_000).FineTuneAsync(Request(), cancel.Token));

        Assert.Equal(before, File.ReadAllBytes(done.ModelPath!));
        Assert.Single(Directory.GetFiles(Path.GetDirectoryName(done.ModelPath!)!));
    }

    [Fact]
    public async Task Mixes_generator_samples_into_training_and_keeps_the_held_out_split_real()
    {
        WriteShards(3000);
        var generator = WriteGenerator(3000);

        var result = await Trainer(generator: generator).FineTuneAsync(Request(), CancellationToken.None);

        Assert.True(result.Completed, result.Message);
        Assert.Equal(2700, result.TrainSamples);
        Assert.Equal(900, result.GeneratorSamples); // 25% of each epoch: 2700 real + 900 synthetic
        Assert.Equal(300, result.HeldOutSamples);
        Assert.InRange(result.HeldOutAccuracy!.Value, 0.65, 1.0);
    }

    [Fact]
    public async Task Uses_the_pushed_generator_at_the_share_its_mixing_rule_gives_for_the_shard_bytes_held()
    {
        WriteShards(3000);
        var shardBytes = Directory.GetFiles(Path.Combine(_data.Path, "datasets", "fmnist"), "*.dqs").Sum(f => new FileInfo(f).Length);
        var pushed = WriteGenerator(3000, Path.Combine(_data.Path, "datasets", "fm-dim"));
        var manifestPath = GeneratorManifest.PathFor(pushed);
        var manifest = GeneratorManifest.Load(manifestPath);
        manifest.Mixing = [new GeneratorMixing { ShardBytes = shardBytes, Ratio = 0.5 }, new GeneratorMixing { ShardBytes = shardBytes * 64, Ratio = 0 }];
        manifest.Save(manifestPath);

        var mixed = await Trainer(ratio: null).FineTuneAsync(Request(), CancellationToken.None);

        Assert.True(mixed.Completed, mixed.Message);
        Assert.Equal(2700, mixed.GeneratorSamples); // half of each epoch: 2700 real + 2700 synthetic
        Assert.Contains("pushed, share 0.5 from its mixing rule", mixed.Message, StringComparison.Ordinal);

        // Where the frontier found no gain the rule says 0, and the run uses the shards alone.
        manifest.Mixing = [new GeneratorMixing { ShardBytes = shardBytes, Ratio = 0 }];
        manifest.Save(manifestPath);
        var alone = await Trainer(ratio: null).FineTuneAsync(Request(), CancellationToken.None);
        Assert.Equal(0, alone.GeneratorSamples);
        Assert.Contains("no gain", alone.Message, StringComparison.Ordinal);

        // A configured share wins over the rule.
        var configured = await Trainer(ratio: 0.25).FineTuneAsync(Request(), CancellationToken.None);
        Assert.Equal(900, configured.GeneratorSamples);

        // The sync layer deleted the model because its rule gives no share at this budget: the run says so (the sync
        // state, in the sync layer's own format, still names the push).
        File.Delete(pushed);
        File.WriteAllText(Path.Combine(_data.Path, "sync-state.json"),
            """{"schema":1,"budgetVersion":0,"datasets":{"fm-dim":{"signed":{"schema":1,"manifest":{"dataset":"fm-dim","kind":"generator","version":1}},"shards":[]}}}""");
        var idle = await Trainer(ratio: null).FineTuneAsync(Request(), CancellationToken.None);
        Assert.Equal(0, idle.GeneratorSamples);
        Assert.Contains("'fm-dim' was pushed but is not held here", idle.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_generator_is_named_and_nothing_is_trained()
    {
        WriteShards(500);
        var missing = Path.Combine(_data.Path, "absent", "G.onnx");

        var result = await Trainer(generator: missing).FineTuneAsync(Request(), CancellationToken.None);

        Assert.False(result.Completed);
        Assert.Contains(missing, result.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_data.Path, ShardFineTuner.ModelRelativePath)));
    }

    /// <summary>A linear-Gaussian generator with the DiM interface, fitted on the first samples of Fashion-MNIST train.</summary>
    private string WriteGenerator(int samples, string? directory = null)
    {
        var train = IdxReader.Read(
            TestData.FashionMnist("train-images-idx3-ubyte.gz"), TestData.FashionMnist("train-labels-idx1-ubyte.gz"), "fashion-mnist").Take(samples);
        var d = train.PixelsPerSample;
        var pixels = new float[samples * d];
        var labels = new int[samples];
        var all = train.AllPixels;
        for (var i = 0; i < pixels.Length; i++)
        {
            pixels[i] = all[i] / 255f; // the generator works in [0,1] pixels
        }

        train.Labels.CopyTo(labels);

        var fitted = LinearGaussianGenerator.Fit(pixels, labels, 10, 1, 28, 28, noiseSize: 100, maxBasisSamples: 1000);
        var path = Path.Combine(directory ?? Path.Combine(_data.Path, "generator"), "G.onnx");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        OnnxModelWriter.WriteFile(fitted.ToModel(), path);
        fitted.ToManifest("fashion-mnist", [0.286f], [0.353f]).Save(GeneratorManifest.PathFor(path));
        return path;
    }

    [Fact]
    public async Task Without_shards_it_says_so()
    {
        var result = await Trainer().FineTuneAsync(Request(), CancellationToken.None);

        Assert.False(result.Completed);
        Assert.StartsWith("no shards under", result.Message, StringComparison.Ordinal);
    }
}
