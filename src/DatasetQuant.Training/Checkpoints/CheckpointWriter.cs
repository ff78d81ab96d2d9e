using DatasetQuant.Core.Formats.Dqs;
using System.Runtime.InteropServices;

namespace DatasetQuant.Training.Checkpoints;

/// <summary>Writes a <see cref="TrainingCheckpoint"/> atomically (temp file, fsync, rename, fsync of the folder), CRC-32C at the end.</summary>
public static class CheckpointWriter
{
    public static void Write(string path, TrainingCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        var shape = checkpoint.Model.Shape;
        if (checkpoint.Velocity.Length != shape.ParameterCount)
        {
            throw new ArgumentException("velocity and parameter counts differ.", nameof(checkpoint));
        }

        var header = new CheckpointHeader(
            (ushort)shape.Sizes.Count, checkpoint.Seed, checkpoint.CompletedEpochs, checkpoint.NextBatch, checkpoint.Step,
            checkpoint.BatchSize, checkpoint.PlannedEpochs, checkpoint.SamplesPerEpoch, shape.ParameterCount);
        var bytes = new byte[CheckpointConstants.FileSize(shape.Sizes.Count, shape.ParameterCount)];
        {
            var prefix = bytes.AsSpan(0, CheckpointConstants.FixedHeaderSize + (4 * shape.Sizes.Count));
            header.Write(prefix);
            for (var i = 0; i < shape.Sizes.Count; i++)
            {
                System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(prefix[(CheckpointConstants.FixedHeaderSize + (4 * i))..], shape.Sizes[i]);
            }

            // The parameters are written as their in-memory bytes: every platform DatasetQuant runs on is little-endian.
            var parameters = MemoryMarshal.AsBytes(checkpoint.Model.Parameters.AsSpan());
            var velocity = MemoryMarshal.AsBytes(checkpoint.Velocity.AsSpan());
            var crc = ~Crc32C.Append(Crc32C.Append(Crc32C.Append(uint.MaxValue, prefix), parameters), velocity);
            parameters.CopyTo(bytes.AsSpan(prefix.Length));
            velocity.CopyTo(bytes.AsSpan(prefix.Length + parameters.Length));
            System.Buffers.Binary.BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - CheckpointConstants.CrcSize), crc);
        }

        DatasetQuant.Core.IO.AtomicFile.WriteAllBytes(path, bytes);
    }
}
