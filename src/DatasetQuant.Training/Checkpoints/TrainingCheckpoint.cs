using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Checkpoints;

/// <summary>
/// Everything a killed run needs to continue exactly where it stopped: parameters, momentum, and the position in the
/// run (epoch and batch; the shuffle of an epoch is recomputed from the seed), plus what must match to resume.
/// </summary>
public sealed record TrainingCheckpoint(
    MlpModel Model,
    float[] Velocity,
    long Seed,
    int CompletedEpochs,
    int NextBatch,
    long Step,
    int BatchSize,
    int PlannedEpochs,
    int SamplesPerEpoch);
