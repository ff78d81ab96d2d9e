namespace DatasetQuant.Training.Data;

internal static class DataSourceGuard
{
    public static void CheckBatch(ITrainingDataSource source, ReadOnlySpan<int> indices, Span<float> samples, Span<int> labels)
    {
        if (samples.Length < indices.Length * source.SampleLength || labels.Length < indices.Length)
        {
            throw new ArgumentException($"{source.Description}: buffers too small for a batch of {indices.Length}.");
        }

        foreach (var index in indices)
        {
            if ((uint)index >= (uint)source.Count)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, $"{source.Description}: sample index {index} is outside 0..{source.Count - 1}.");
            }
        }
    }

    /// <summary>The clear error for a source that does not fit the model it is meant to train.</summary>
    public static void CheckFits(ITrainingDataSource source, Model.MlpShape shape)
    {
        if (source.SampleLength != shape.InputSize)
        {
            throw new InvalidDataException(
                $"{source.Description}: samples have {source.SampleLength} values, the model {shape} takes {shape.InputSize}.");
        }

        if (source.ClassCount != shape.ClassCount)
        {
            throw new InvalidDataException(
                $"{source.Description}: {source.ClassCount} classes, the model {shape} predicts {shape.ClassCount}.");
        }
    }
}
