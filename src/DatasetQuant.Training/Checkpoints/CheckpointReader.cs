using DatasetQuant.Core.Formats.Dqs;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Checkpoints;

/// <summary>Reads a checkpoint, checking its size against its header before allocating and its CRC before trusting it.</summary>
public static class CheckpointReader
{
    public static TrainingCheckpoint Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var length = stream.Length;
        if (length < CheckpointConstants.FixedHeaderSize + CheckpointConstants.CrcSize)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, $"{length} bytes is shorter than a checkpoint header");
        }

        Span<byte> fixedHeader = stackalloc byte[CheckpointConstants.FixedHeaderSize];
        stream.ReadExactly(fixedHeader);
        var header = CheckpointHeader.Read(path, fixedHeader);
        if (header.LayerSizeCount is < 2 or > CheckpointConstants.MaxLayerSizes || header.ParameterCount <= 0)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, $"header names {header.LayerSizeCount} layer sizes and {header.ParameterCount} parameters");
        }

        var expected = CheckpointConstants.FileSize(header.LayerSizeCount, header.ParameterCount);
        if (length != expected)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, $"the header promises {expected} bytes, the file has {length} (truncated or overwritten)");
        }

        // The size now matches the header, so this allocation is bounded by the file itself.
        var bytes = GC.AllocateUninitializedArray<byte>(checked((int)length));
        fixedHeader.CopyTo(bytes);
        stream.ReadExactly(bytes.AsSpan(CheckpointConstants.FixedHeaderSize));
        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - CheckpointConstants.CrcSize));
        var actual = Crc32C.Compute(bytes.AsSpan(0, bytes.Length - CheckpointConstants.CrcSize));
        if (stored != actual)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, $"CRC-32C is 0x{actual:X8}, the file records 0x{stored:X8}");
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
        catch (ArgumentException ex)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, ex.Message);
            throw;
        }

        if (shape.ParameterCount != header.ParameterCount)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, $"shape {shape} has {shape.ParameterCount} parameters, the header says {header.ParameterCount}");
        }

        var offset = CheckpointConstants.FixedHeaderSize + (4 * sizes.Length);
        var parameters = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset, 4 * header.ParameterCount)).ToArray();
        var velocity = MemoryMarshal.Cast<byte, float>(bytes.AsSpan(offset + (4 * header.ParameterCount), 4 * header.ParameterCount)).ToArray();
        return new TrainingCheckpoint(
            new MlpModel(shape, parameters), velocity, header.Seed, header.CompletedEpochs, header.NextBatch, header.Step,
            header.BatchSize, header.PlannedEpochs, header.SamplesPerEpoch);
    }
}
