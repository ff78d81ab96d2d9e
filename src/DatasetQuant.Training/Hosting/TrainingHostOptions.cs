using DatasetQuant.Training.Optimization;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Hosting;

/// <summary>The trainer's settings as a host configures them (section "Training"); turned into <see cref="TrainingOptions"/> per run.</summary>
public sealed class TrainingHostOptions
{
    public int Epochs { get; set; } = 10;

    public int BatchSize { get; set; } = 128;

    public float LearningRate { get; set; } = 0.05f;

    public float Momentum { get; set; } = 0.9f;

    public float WeightDecay { get; set; } = 5e-4f;

    public string Schedule { get; set; } = "cosine";

    /// <summary>Compute threads (0: one per core).</summary>
    public int Threads { get; set; }

    /// <summary>Folder for run checkpoints on flash.</summary>
    public string CheckpointDirectory { get; set; } = "checkpoints";

    public int CheckpointEverySteps { get; set; } = 100;

    public TrainingOptions ToTrainingOptions(long seed, string? checkpointPath) => new()
    {
        Epochs = Epochs,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        Momentum = Momentum,
        WeightDecay = WeightDecay,
        Schedule = LearningRateSchedule.ParseKind(Schedule),
        Parallelism = Threads,
        Seed = seed,
        CheckpointPath = checkpointPath,
        CheckpointEverySteps = CheckpointEverySteps,
    };

    /// <summary>Null when valid, else the message naming the first bad setting.</summary>
    public string? Check()
    {
        if (string.IsNullOrWhiteSpace(CheckpointDirectory))
        {
            return "Training:CheckpointDirectory must name a folder.";
        }

        try
        {
            ToTrainingOptions(seed: 1, checkpointPath: null).Validate();
            return null;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            return "Training: " + ex.Message;
        }
    }
}
