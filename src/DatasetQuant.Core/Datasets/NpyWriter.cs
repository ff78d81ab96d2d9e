using System.Runtime.InteropServices;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Datasets;

/// <summary>
/// Writes a C-order .npy file (version 1.0) atomically: the values are streamed in with <see cref="Append(ReadOnlySpan{float})"/>
/// (or its byte/long overloads) and the file appears under its name only on <see cref="Commit"/>, complete and fsynced.
/// The static <c>Write</c> methods do all of it in one call.
/// </summary>
public sealed class NpyWriter : IDisposable
{
    private readonly AtomicFileWriter _file;
    private readonly long _expectedElements;
    private long _written;

    private NpyWriter(string path, NpyDType dtype, int[] shape)
    {
        DType = dtype;
        long elements = 1;
        foreach (var d in shape)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
            elements *= d;
        }

        _expectedElements = elements;
        _file = new AtomicFileWriter(path);
        _file.Stream.Write(NpyFormat.BuildHeader(dtype, shape));
    }

    public NpyDType DType { get; }

    public static NpyWriter Create(string path, NpyDType dtype, params int[] shape) => new(path, dtype, shape);

    public static void Write(string path, ReadOnlySpan<float> values, params int[] shape) => WriteAll(path, NpyDType.Float32, MemoryMarshal.AsBytes(values), shape);

    public static void Write(string path, ReadOnlySpan<byte> values, params int[] shape) => WriteAll(path, NpyDType.UInt8, values, shape);

    public static void Write(string path, ReadOnlySpan<long> values, params int[] shape) => WriteAll(path, NpyDType.Int64, MemoryMarshal.AsBytes(values), shape);

    public void Append(ReadOnlySpan<float> values) => AppendRaw(NpyDType.Float32, MemoryMarshal.AsBytes(values), values.Length);

    public void Append(ReadOnlySpan<byte> values) => AppendRaw(NpyDType.UInt8, values, values.Length);

    public void Append(ReadOnlySpan<long> values) => AppendRaw(NpyDType.Int64, MemoryMarshal.AsBytes(values), values.Length);

    /// <summary>Checks that every element of the shape arrived, then makes the file visible under its name.</summary>
    public void Commit()
    {
        if (_written != _expectedElements)
        {
            throw new InvalidOperationException($"{_file.Path}: {_written} of the {_expectedElements} elements the shape declares were written.");
        }

        _file.Commit();
    }

    /// <summary>Without <see cref="Commit"/>, nothing appears and the temporary file is removed.</summary>
    public void Dispose() => _file.Dispose();

    private static void WriteAll(string path, NpyDType dtype, ReadOnlySpan<byte> bytes, int[] shape)
    {
        using var writer = new NpyWriter(path, dtype, shape);
        writer.AppendRaw(dtype, bytes, bytes.Length / NpyFormat.ElementSize(dtype));
        writer.Commit();
    }

    private void AppendRaw(NpyDType dtype, ReadOnlySpan<byte> bytes, long elements)
    {
        if (dtype != DType)
        {
            throw new InvalidOperationException($"{_file.Path} holds {DType}; cannot append {dtype}.");
        }

        if (_written + elements > _expectedElements)
        {
            throw new InvalidOperationException($"{_file.Path}: appending {elements} elements exceeds the {_expectedElements} the shape declares.");
        }

        _file.Stream.Write(bytes);
        _written += elements;
    }
}
