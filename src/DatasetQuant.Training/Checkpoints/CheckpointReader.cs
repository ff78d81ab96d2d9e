using DatasetQuant.Core.Formats.Dqs;
using System.Buffers.Binary;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Checkpoints;

/// <summary>
/// Reads a checkpoint, checking its size against its header before allocating and its CRC before trusting it, then
/// every field against the rules of <see cref="CheckpointConstants"/>. A damaged file is an
/// <see cref="InvalidDataException"/> naming the file and the field.
/// </summary>
public static class CheckpointReader
{
    public static TrainingCheckpoint Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = stream.Length;
        if (length < CheckpointConstants.FixedHeaderSize + CheckpointConstants.CrcSize)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "length", $"{length} bytes is shorter than a checkpoint header");
        }

        Span<byte> fixedHeader = stackalloc byte[CheckpointConstants.FixedHeaderSize];
        stream.ReadExactly(fixedHeader);
        var header = CheckpointHeader.Read(path, fixedHeader);
        if (header.LayerSizeCount is < 2 or > CheckpointConstants.MaxLayerSizes)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "layerSizeCount", $"{header.LayerSizeCount} is outside 2..{CheckpointConstants.MaxLayerSizes}");
        }

        if (header.ParameterCount <= 0)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "parameterCount", $"{header.ParameterCount} is not positive");
        }

        var expected = CheckpointConstants.FileSize(header.LayerSizeCount, header.ParameterCount);
        if (length != expected)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "length", $"{length} bytes differs from the {expected} the header promises (truncated or overwritten)");
        }

        // The size now matches the header, so this allocation is bounded by the file itself.
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        fixedHeader.CopyTo(bytes);
        stream.ReadExactly(bytes.AsSpan(CheckpointConstants.FixedHeaderSize));
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - CheckpointConstants.CrcSize));
        var actual = Crc32C.Compute(bytes.AsSpan(0, bytes.Length - CheckpointConstants.CrcSize));
        if (stored != actual)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "CRC-32C", $"is 0x{actual:X8}, the file records 0x{stored:X8}");
        }

        var sizes = new int[header.LayerSizeCount];
        for (var i = 0; i < sizes.Length; i++)
        {
            sizes[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(CheckpointConstants.FixedHeaderSize + (4 * i)));
        }

        MlpShape shape;
        try
        {
            shape = new MlpShape(sizes);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException)
        {
            // Sizes each in range can still multiply past an int of parameters: the shape refuses those with an overflow.
            CheckpointThrowHelper.ThrowCorrupt(path, "layerSizes", $"{string.Join('-', sizes)} make no model: {ex.Message.TrimEnd('.')}");
            throw;
        }

        if (shape.ParameterCount != header.ParameterCount)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "parameterCount", $"{header.ParameterCount} differs from the {shape.ParameterCount} of shape {shape}");
        }

        CheckPosition(path, header);
        var offset = CheckpointConstants.FixedHeaderSize + (4 * sizes.Length);
        var parameters = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset, 4 * header.ParameterCount)).ToArray();
        var velocity = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset + (4 * header.ParameterCount), 4 * header.ParameterCount)).ToArray();
        // NaN or ±Inf anywhere: resumed, the run would diverge at once and blame the learning rate.
        CheckFinite(path, "parameters", parameters);
        CheckFinite(path, "velocity", velocity);

        return new TrainingCheckpoint(
            new MlpModel(shape, parameters), velocity, header.Seed, header.CompletedEpochs, header.NextBatch, header.Step,
            header.BatchSize, header.PlannedEpochs, header.SamplesPerEpoch);
    }

    /// <summary>Where the run stood: a position the trainer can have written (the rules in <see cref="CheckpointConstants"/>).</summary>
    private static void CheckPosition(string path, in CheckpointHeader header)
    {
        CheckRange(path, "batchSize", header.BatchSize, 1, int.MaxValue);
        CheckRange(path, "plannedEpochs", header.PlannedEpochs, 1, int.MaxValue);
        CheckRange(path, "samplesPerEpoch", header.SamplesPerEpoch, 1, int.MaxValue);
        CheckRange(path, "completedEpochs", header.CompletedEpochs, 0, header.PlannedEpochs);
        var batches = ((long)header.SamplesPerEpoch + header.BatchSize - 1) / header.BatchSize;
        CheckRange(path, "nextBatch", header.NextBatch, 0, header.CompletedEpochs == header.PlannedEpochs ? 0 : batches - 1);
        var step = (header.CompletedEpochs * batches) + header.NextBatch;
        CheckRange(path, "step", header.Step, step, step);
    }

    private static void CheckRange(string path, string field, long value, long low, long high)
    {
        if (value < low || value > high)
        {
            CheckpointThrowHelper.ThrowOutside(path, field, value, low, high);
        }
    }

    private static void CheckFinite(string path, string field, ReadOnlySpan<float> values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
            {
                CheckpointThrowHelper.ThrowCorrupt(path, field, $"value {i} is {values[i]}, not a finite number");
            }
        }
    }
}
