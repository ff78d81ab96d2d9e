using System.Runtime.InteropServices;

namespace DatasetQuant.Onnx;

/// <summary>
/// A named tensor held in managed memory: the element type, the shape and the little-endian bytes (or the strings of
/// a string tensor). Used for initializers in the model writer/reader and by the allocating
/// <see cref="OnnxSession.Run(IReadOnlyList{OnnxTensor}, IReadOnlyList{string}?)"/>; hot paths bind spans instead.
/// </summary>
public sealed class OnnxTensor : OnnxValue
{
    public OnnxTensor(string name, OnnxElementType elementType, long[] shape, byte[] data)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(data);
        if (elementType == OnnxElementType.String)
        {
            throw new ArgumentException("Use the string[] constructor for string tensors.", nameof(elementType));
        }

        var expected = OnnxElementTypes.ByteLength(elementType, ElementCountOf(shape));
        if (expected != data.Length)
        {
            throw new ArgumentException(
                $"Tensor '{name}': shape [{string.Join(",", shape)}] of {elementType} needs {expected} bytes, got {data.Length}.", nameof(data));
        }

        ElementType = elementType;
        Shape = shape;
        Data = data;
    }

    public OnnxTensor(string name, long[] shape, string[] strings)
        : base(name)
    {
        if (ElementCountOf(shape) != strings.Length)
        {
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(",", shape)}] needs {ElementCountOf(shape)} strings, got {strings.Length}.", nameof(strings));
        }

        ElementType = OnnxElementType.String;
        Shape = shape;
        Data = [];
        Strings = strings;
    }

    public override OnnxValueKind Kind => OnnxValueKind.Tensor;

    public OnnxElementType ElementType { get; }

    public long[] Shape { get; }

    /// <summary>Raw little-endian element bytes; empty for string tensors.</summary>
    public byte[] Data { get; }

    /// <summary>The elements of a string tensor; null otherwise.</summary>
    public string[]? Strings { get; }

    public long ElementCount => ElementCountOf(Shape);

    public override OnnxValue WithName(string name) =>
        ElementType == OnnxElementType.String ? new OnnxTensor(name, Shape, Strings!) : new OnnxTensor(name, ElementType, Shape, Data);

    public static OnnxTensor FromFloats(string name, ReadOnlySpan<float> values, params long[] shape) =>
        new(name, OnnxElementType.Float, shape, MemoryMarshal.AsBytes(values).ToArray());

    public static OnnxTensor FromInt64s(string name, ReadOnlySpan<long> values, params long[] shape) =>
        new(name, OnnxElementType.Int64, shape, MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>The elements viewed as <typeparamref name="T"/>; the caller picks the type matching <see cref="ElementType"/>.</summary>
    public ReadOnlySpan<T> AsSpan<T>()
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(Data);

    /// <summary>The elements as float32, for float tensors only.</summary>
    public float[] ToFloatArray()
    {
        if (ElementType != OnnxElementType.Float)
        {
            throw new InvalidOperationException($"Tensor '{Name}' holds {ElementType}, not float32.");
        }

        return AsSpan<float>().ToArray();
    }

    public static long ElementCountOf(ReadOnlySpan<long> shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0)
            {
                throw new ArgumentException($"Shape [{string.Join(",", shape.ToArray())}] has a negative dimension.");
            }

            count = checked(count * d);
        }

        return count;
    }

    public override string ToString() => $"{Name}: {OnnxElementTypes.Name(ElementType)}[{string.Join(",", Shape)}]";
}
