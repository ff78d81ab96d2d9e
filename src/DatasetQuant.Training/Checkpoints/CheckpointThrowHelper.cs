using System.Diagnostics.CodeAnalysis;

namespace DatasetQuant.Training.Checkpoints;

internal static class CheckpointThrowHelper
{
    /// <summary>
    /// The checkpoint at <paramref name="path"/> is damaged: <paramref name="field"/> (a field of the layout in
    /// <see cref="CheckpointConstants"/>, or its length or CRC-32C) is at fault, and <paramref name="what"/> continues
    /// the sentence after the field's name.
    /// </summary>
    [DoesNotReturn]
    public static void ThrowCorrupt(string path, string field, string what) =>
        throw new InvalidDataException($"checkpoint '{path}' is corrupt: {field} {what}. Delete it to start the run afresh.");

    /// <summary>A field outside what the trainer writes: <paramref name="low"/>..<paramref name="high"/> (one value when they are equal).</summary>
    [DoesNotReturn]
    public static void ThrowOutside(string path, string field, long value, long low, long high) =>
        ThrowCorrupt(path, field, low == high ? $"{value} is not {low}, which the fields before it give"
            : high == int.MaxValue ? $"{value} is below {low}" : $"{value} is outside {low}..{high}");

    [DoesNotReturn]
    public static void ThrowMismatch(string path, string what) =>
        throw new InvalidDataException($"checkpoint '{path}' belongs to another run: {what}. Use another checkpoint path or delete it.");
}
