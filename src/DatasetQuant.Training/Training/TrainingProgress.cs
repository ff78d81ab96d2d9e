namespace DatasetQuant.Training.Training;

/// <summary>Where a run is: reported every few steps and at the end of each epoch.</summary>
public readonly record struct TrainingProgress(
    int Epoch,
    int Epochs,
    int SamplesDone,
    int SamplesPerEpoch,
    long Step,
    long TotalSteps,
    float RunningLoss,
    float LearningRate,
    double SamplesPerSecond,
    bool EpochFinished);

/// <summary>One finished epoch.</summary>
public readonly record struct EpochSummary(int Epoch, float MeanLoss, double Seconds, double SamplesPerSecond);

/// <summary>The end of a run: the epochs this process trained (after any resume) and where it started from.</summary>
public sealed record TrainingResult(IReadOnlyList<EpochSummary> Epochs, int ResumedFromEpoch, int ResumedFromBatch, long Steps);

/// <summary>The loss or the gradient stopped being a finite number; the model is not updated with it.</summary>
public sealed class TrainingDivergedException : Exception
{
    public TrainingDivergedException(string message)
        : base(message)
    {
    }
}
