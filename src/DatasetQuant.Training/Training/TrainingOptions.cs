using DatasetQuant.Training.Optimization;

namespace DatasetQuant.Training.Training;

/// <summary>Hyper-parameters and bookkeeping of one training run; <see cref="Validate"/> names the first bad value.</summary>
public sealed record TrainingOptions
{
    public int Epochs { get; init; } = 10;

    public int BatchSize { get; init; } = 128;

    public float LearningRate { get; init; } = 0.05f;

    public float Momentum { get; init; } = 0.9f;

    public float WeightDecay { get; init; } = 5e-4f;

    public LearningRateScheduleKind Schedule { get; init; } = LearningRateScheduleKind.Cosine;

    /// <summary>Steps of linear warm-up before the schedule (from 0 to the base rate).</summary>
    public int WarmupSteps { get; init; } = 100;

    public long Seed { get; init; } = 1;

    /// <summary>Where checkpoints go; when the file exists the run resumes from it. Null: no checkpoints.</summary>
    public string? CheckpointPath { get; init; }

    /// <summary>Also checkpoint every this many steps inside an epoch (0: only at the end of each epoch).</summary>
    public int CheckpointEverySteps { get; init; }

    /// <summary>Report progress every this many steps (and at the end of each epoch).</summary>
    public int ProgressEverySteps { get; init; } = 20;

    /// <summary>Threads the GEMMs use, the caller's included; 0 means one per processor.</summary>
    public int Parallelism { get; init; }

    public void Validate()
    {
        Require(Epochs is > 0 and <= 100_000, nameof(Epochs), Epochs, "must be 1..100000");
        Require(BatchSize is > 0 and <= 65_536, nameof(BatchSize), BatchSize, "must be 1..65536");
        Require(LearningRate > 0 && float.IsFinite(LearningRate), nameof(LearningRate), LearningRate, "must be finite and > 0");
        Require(Momentum is >= 0 and < 1, nameof(Momentum), Momentum, "must be in [0, 1)");
        Require(WeightDecay >= 0 && float.IsFinite(WeightDecay), nameof(WeightDecay), WeightDecay, "must be finite and ≥ 0");
        Require(WarmupSteps >= 0, nameof(WarmupSteps), WarmupSteps, "must be ≥ 0");
        Require(CheckpointEverySteps >= 0, nameof(CheckpointEverySteps), CheckpointEverySteps, "must be ≥ 0");
        Require(ProgressEverySteps > 0, nameof(ProgressEverySteps), ProgressEverySteps, "must be > 0");
        Require(Parallelism >= 0, nameof(Parallelism), Parallelism, "must be ≥ 0");
    }

    private static void Require(bool ok, string name, object value, string rule)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"training option {name} = {value} {rule}.");
        }
    }
}
