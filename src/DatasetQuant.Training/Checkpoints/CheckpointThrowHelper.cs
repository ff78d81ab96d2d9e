using System.Diagnostics.CodeAnalysis;

namespace DatasetQuant.Training.Checkpoints;

internal static class CheckpointThrowHelper
{
    [DoesNotReturn]
    public static void ThrowCorrupt(string path, string what) =>
        throw new InvalidDataException($"checkpoint '{path}' is corrupt: {what}. Delete it to start the run afresh.");

    [DoesNotReturn]
    public static void ThrowMismatch(string path, string what) =>
        throw new InvalidDataException($"checkpoint '{path}' belongs to another run: {what}. Use another checkpoint path or delete it.");
}
