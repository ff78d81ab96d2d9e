using System.Diagnostics;
using System.Numerics.Tensors;
using DatasetQuant.Training.Checkpoints;
using DatasetQuant.Training.Compute;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Optimization;

namespace DatasetQuant.Training.Training;

/// <summary>
/// Mini-batch SGD of an <see cref="MlpModel"/> in place. Every buffer a step touches (batch, activations, gradients,
/// packed GEMM panels, shuffle order) is allocated in the constructor, so a step allocates nothing. The shuffle of
/// epoch e is drawn from (seed, e) alone, which is what lets a run resume mid-epoch from a checkpoint and continue
/// exactly as it would have.
/// </summary>
public sealed class MlpTrainer : IDisposable
{
    private readonly TrainingOptions _options;
    private readonly ComputePool _pool;
    private readonly MlpPass _pass;
    private readonly SgdMomentum _optimizer;
    private readonly float[] _gradients;
    private readonly float[] _batchSamples;
    private readonly int[] _batchLabels;
    private int[] _order = [];

    public MlpTrainer(MlpModel model, TrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Model = model;
        _options = options;
        _pool = options.Parallelism == 1 ? ComputePool.Serial : new ComputePool(options.Parallelism);
        _pass = new MlpPass(model.Shape, options.BatchSize, _pool);
        _optimizer = new SgdMomentum(model.Shape, options.Momentum, options.WeightDecay);
        _gradients = new float[model.Shape.ParameterCount];
        _batchSamples = new float[options.BatchSize * model.Shape.InputSize];
        _batchLabels = new int[options.BatchSize];
    }

    public MlpModel Model { get; }

    /// <summary>One SGD step on a batch already in memory; returns the batch's mean loss before the update.</summary>
    public float Step(ReadOnlySpan<float> samples, ReadOnlySpan<int> labels, int batch, float learningRate)
    {
        var loss = _pass.ForwardBackward(Model, samples, labels, batch, _gradients);
        if (!float.IsFinite(loss))
        {
            throw new TrainingDivergedException($"the loss became {loss} on a batch of {batch}; the parameters were not updated");
        }

        // NaN or ±Inf anywhere makes the sum non-finite; it is one cheap pass next to the GEMMs.
        if (!float.IsFinite(TensorPrimitives.Sum(_gradients)))
        {
            throw new TrainingDivergedException($"a gradient became NaN or infinite (loss {loss}); the parameters were not updated");
        }

        _optimizer.Step(Model, _gradients, learningRate);
        return loss;
    }

    /// <summary>
    /// Trains for <see cref="TrainingOptions.Epochs"/> epochs over <paramref name="data"/>, resuming from the checkpoint
    /// if one exists. Cancelling stops after the current step without writing a checkpoint (as a kill would).
    /// </summary>
    public TrainingResult Train(ITrainingDataSource data, Action<TrainingProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        DataSourceGuard.CheckFits(data, Model.Shape);
        if (data.Count == 0)
        {
            throw new InvalidDataException($"{data.Description} holds no samples to train on.");
        }

        var batchSize = _options.BatchSize;
        var stepsPerEpoch = (data.Count + batchSize - 1) / batchSize;
        var schedule = new LearningRateSchedule(
            _options.Schedule, _options.LearningRate, (long)stepsPerEpoch * _options.Epochs, Math.Min(_options.WarmupSteps, stepsPerEpoch));
        var (startEpoch, startBatch, step) = Resume(data.Count);
        if (_order.Length != data.Count)
        {
            _order = new int[data.Count];
        }

        var summaries = new List<EpochSummary>();
        for (var epoch = startEpoch; epoch < _options.Epochs; epoch++)
        {
            for (var i = 0; i < _order.Length; i++)
            {
                _order[i] = i;
            }

            var random = SeededRandom.For(_options.Seed, purpose: 2, index: epoch);
            random.Shuffle(_order);
            var clock = Stopwatch.StartNew();
            double epochLoss = 0, windowLoss = 0;
            int epochSamples = 0, windowSteps = 0;
            var firstBatch = epoch == startEpoch ? startBatch : 0;
            for (var b = firstBatch; b < stepsPerEpoch; b++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var start = b * batchSize;
                var count = Math.Min(batchSize, data.Count - start);
                data.ReadBatch(_order.AsSpan(start, count), _batchSamples, _batchLabels);
                var learningRate = schedule.At(step);
                float loss;
                try
                {
                    loss = Step(_batchSamples, _batchLabels, count, learningRate);
                }
                catch (TrainingDivergedException ex)
                {
                    var kept = _options.CheckpointPath is { } path && File.Exists(path)
                        ? $"the last good checkpoint '{path}' is kept"
                        : "no checkpoint was written";
                    throw new TrainingDivergedException(
                        $"training diverged at epoch {epoch + 1}, batch {b + 1} (step {step + 1}, learning rate {learningRate:G3}): {ex.Message}; {kept}. Lower --lr or check the data.");
                }

                step++;
                epochLoss += loss * count;
                epochSamples += count;
                windowLoss += loss;
                windowSteps++;
                var finished = b == stepsPerEpoch - 1;
                if (_options.CheckpointEverySteps > 0 && !finished && step % _options.CheckpointEverySteps == 0)
                {
                    SaveCheckpoint(epoch, b + 1, step, data.Count);
                }

                if (progress is not null && (finished || windowSteps >= _options.ProgressEverySteps))
                {
                    progress(new TrainingProgress(
                        epoch + 1, _options.Epochs, start + count, data.Count, step, schedule.TotalSteps,
                        (float)(windowLoss / windowSteps), learningRate, epochSamples / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), finished));
                    windowLoss = 0;
                    windowSteps = 0;
                }
            }

            var seconds = clock.Elapsed.TotalSeconds;
            SaveCheckpoint(epoch + 1, 0, step, data.Count);
            summaries.Add(new EpochSummary(epoch + 1, (float)(epochLoss / Math.Max(1, epochSamples)), seconds, epochSamples / Math.Max(seconds, 1e-9)));
        }

        return new TrainingResult(summaries, startEpoch, startBatch, step);
    }

    private (int Epoch, int Batch, long Step) Resume(int samplesPerEpoch)
    {
        if (_options.CheckpointPath is not { } path || !File.Exists(path))
        {
            return (0, 0, 0);
        }

        var checkpoint = CheckpointReader.Read(path);
        if (!checkpoint.Model.Shape.Equals(Model.Shape))
        {
            CheckpointThrowHelper.ThrowMismatch(path, $"its model is {checkpoint.Model.Shape}, this run trains {Model.Shape}");
        }

        if (checkpoint.Seed != _options.Seed || checkpoint.BatchSize != _options.BatchSize
            || checkpoint.PlannedEpochs != _options.Epochs || checkpoint.SamplesPerEpoch != samplesPerEpoch)
        {
            CheckpointThrowHelper.ThrowMismatch(path,
                $"it was written with seed {checkpoint.Seed}, batch {checkpoint.BatchSize}, {checkpoint.PlannedEpochs} epochs of {checkpoint.SamplesPerEpoch} samples; " +
                $"this run has seed {_options.Seed}, batch {_options.BatchSize}, {_options.Epochs} epochs of {samplesPerEpoch}");
        }

        checkpoint.Model.Parameters.CopyTo(Model.Parameters, 0);
        checkpoint.Velocity.CopyTo(_optimizer.Velocity, 0);
        return (checkpoint.CompletedEpochs, checkpoint.NextBatch, checkpoint.Step);
    }

    private void SaveCheckpoint(int completedEpochs, int nextBatch, long step, int samplesPerEpoch)
    {
        if (_options.CheckpointPath is not { } path)
        {
            return;
        }

        CheckpointWriter.Write(path, new TrainingCheckpoint(
            Model, _optimizer.Velocity, _options.Seed, completedEpochs, nextBatch, step, _options.BatchSize, _options.Epochs, samplesPerEpoch));
    }

    public void Dispose() => _pool.Dispose();
}
