using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Engines;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// One epoch over the 60,000 Fashion-MNIST training samples with the default MLP (784-256-10, batch 128), against
/// the baseline of only reading the same batches (standardising uint8 into the batch buffer) in the same order.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(RunStrategy.Monitoring, launchCount: 1, warmupCount: 1, iterationCount: 3)]
public class TrainingEpochBenchmarks
{
    private ImageDataSource _data = null!;
    private MlpTrainer _trainer = null!;
    private float[] _batch = [];
    private int[] _labels = [];
    private int[] _order = [];

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var train = DatasetSource.Load("fashion-mnist:train");
        var statistics = ChannelStatistics.Compute(train);
        _data = new ImageDataSource(train, new InputNormalization([statistics.Mean[0] / 255f], [statistics.StandardDeviation[0] / 255f]));
        _trainer = new MlpTrainer(MlpModel.CreateRandom(MlpShape.Default, 1), new TrainingOptions { Epochs = 1, Parallelism = Threads });
        _batch = new float[128 * 784];
        _labels = new int[128];
        _order = Enumerable.Range(0, _data.Count).ToArray();
    }

    [GlobalCleanup]
    public void Cleanup() => _trainer.Dispose();

    [Benchmark(Baseline = true)]
    public void ReadBatchesOnly()
    {
        for (var start = 0; start < _order.Length; start += 128)
        {
            var count = Math.Min(128, _order.Length - start);
            _data.ReadBatch(_order.AsSpan(start, count), _batch, _labels);
        }
    }

    [Benchmark]
    public TrainingResult TrainOneEpoch() => _trainer.Train(_data);
}
