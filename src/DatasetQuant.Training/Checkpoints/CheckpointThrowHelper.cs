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

    [DoesNotReturn]
    public static void ThrowMismatch(string path, string what) =>
        throw new InvalidDataException($"checkpoint '{path}' belongs to another run: {what}. Use another checkpoint path or delete it.");
}
