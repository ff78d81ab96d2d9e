namespace DatasetQuant.Training.Optimization;

public enum LearningRateScheduleKind
{
    /// <summary>Half a cosine from the base rate down to zero over the whole run.</summary>
    Cosine,

    /// <summary>The base rate, divided by 10 at 50% and again at 75% of the run.</summary>
    Step,

    Constant,
}

/// <summary>The learning rate at a step of a run of known length, with a linear warm-up over the first steps.</summary>
public readonly record struct LearningRateSchedule(LearningRateScheduleKind Kind, float BaseRate, long TotalSteps, long WarmupSteps = 0)
{
    public float At(long step)
    {
        if (WarmupSteps > 0 && step < WarmupSteps)
        {
            return BaseRate * (step + 1) / WarmupSteps;
        }

        var progress = TotalSteps <= 0 ? 0.0 : Math.Clamp((double)step / TotalSteps, 0.0, 1.0);
        return Kind switch
        {
            LearningRateScheduleKind.Cosine => (float)(BaseRate * 0.5 * (1 + Math.Cos(Math.PI * progress))),
            LearningRateScheduleKind.Step => progress < 0.5 ? BaseRate : progress < 0.75 ? BaseRate * 0.1f : BaseRate * 0.01f,
            _ => BaseRate,
        };
    }

    public static LearningRateScheduleKind ParseKind(string text) => text.ToLowerInvariant() switch
    {
        "cosine" => LearningRateScheduleKind.Cosine,
        "step" => LearningRateScheduleKind.Step,
        "constant" => LearningRateScheduleKind.Constant,
        _ => throw new FormatException($"learning-rate schedule '{text}' is not one of cosine, step, constant."),
    };
}
