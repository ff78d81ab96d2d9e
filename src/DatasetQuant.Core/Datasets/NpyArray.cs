using System.Runtime.InteropServices;

namespace DatasetQuant.Core.Datasets;

/// <summary>The element types dq reads and writes in .npy files (little-endian, C order).</summary>
public enum NpyDType
{
    UInt8,
    Int32,
    Int64,
    Float32,
}

/// <summary>A whole .npy array in memory: its shape and its raw little-endian, C-order bytes.</summary>
public sealed class NpyArray
{
    public NpyArray(NpyDType dtype, int[] shape, byte[] data)
    {
        DType = dtype;
        Shape = shape;
        Data = data;
    }

    public NpyDType DType { get; }

    public int[] Shape { get; }

    public byte[] Data { get; }

    public long ElementCount => Data.LongLength / NpyFormat.ElementSize(DType);

    public ReadOnlySpan<float> AsSingles() => DType == NpyDType.Float32
        ? MemoryMarshal.Cast<byte, float>(Data)
        : throw new InvalidOperationException($"the array holds {DType}, not Float32.");

    /// <summary>Integer elements (UInt8, Int32 or Int64) widened to long.</summary>
    public long[] ToInt64()
    {
        var result = new long[ElementCount];
        switch (DType)
        {
            case NpyDType.UInt8:
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = Data[i];
                }

                break;
            case NpyDType.Int32:
                var ints = MemoryMarshal.Cast<byte, int>(Data);
                for (var i = 0; i < result.Length; i++)
                {
                    result[i] = ints[i];
                }

                break;
            case NpyDType.Int64:
                MemoryMarshal.Cast<byte, long>(Data).CopyTo(result);
                break;
            default:
                throw new InvalidOperationException($"the array holds {DType}, not integers.");
        }

        return result;
    }
}
