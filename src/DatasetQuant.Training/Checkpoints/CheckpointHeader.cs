using System.Buffers.Binary;

namespace DatasetQuant.Training.Checkpoints;

/// <summary>The fixed 48 bytes at the start of a checkpoint (layout in <see cref="CheckpointConstants"/>).</summary>
internal readonly record struct CheckpointHeader(
    ushort LayerSizeCount, long Seed, int CompletedEpochs, int NextBatch, long Step,
    int BatchSize, int PlannedEpochs, int SamplesPerEpoch, int ParameterCount)
{
    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(destination, CheckpointConstants.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], CheckpointConstants.Version);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[6..], LayerSizeCount);
        BinaryPrimitives.WriteInt64LittleEndian(destination[8..], Seed);
        BinaryPrimitives.WriteInt32LittleEndian(destination[16..], CompletedEpochs);
        BinaryPrimitives.WriteInt32LittleEndian(destination[20..], NextBatch);
        BinaryPrimitives.WriteInt64LittleEndian(destination[24..], Step);
        BinaryPrimitives.WriteInt32LittleEndian(destination[32..], BatchSize);
        BinaryPrimitives.WriteInt32LittleEndian(destination[36..], PlannedEpochs);
        BinaryPrimitives.WriteInt32LittleEndian(destination[40..], SamplesPerEpoch);
        BinaryPrimitives.WriteInt32LittleEndian(destination[44..], ParameterCount);
    }

    public static CheckpointHeader Read(string path, ReadOnlySpan<byte> source)
    {
        var magic = BinaryPrimitives.ReadUInt32LittleEndian(source);
        if (magic != CheckpointConstants.Magic)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "magic", $"0x{magic:X8} is not a DatasetQuant checkpoint");
        }

        var version = BinaryPrimitives.ReadUInt16LittleEndian(source[4..]);
        if (version != CheckpointConstants.Version)
        {
            CheckpointThrowHelper.ThrowCorrupt(path, "version", $"{version} is not supported (this build reads {CheckpointConstants.Version})");
        }

        return new CheckpointHeader(
            BinaryPrimitives.ReadUInt16LittleEndian(source[6..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[8..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[16..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[20..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[24..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[32..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[36..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[40..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[44..]));
    }
}
