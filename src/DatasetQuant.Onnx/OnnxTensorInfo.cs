namespace DatasetQuant.Onnx;

/// <summary>What kind of value an input or output is (ONNX Runtime's <c>ONNXType</c>).</summary>
public enum OnnxValueKind
{
    Unknown = 0,
    Tensor = 1,
    Sequence = 2,
    Map = 3,
    Opaque = 4,
    SparseTensor = 5,
    Optional = 6,
}

/// <summary>One model input or output: name, kind, element type and shape (-1 for a symbolic dimension).</summary>
public sealed record OnnxTensorInfo(string Name, OnnxValueKind Kind, OnnxElementType ElementType, long[] Shape)
{
    public override string ToString() =>
        Kind == OnnxValueKind.Tensor
            ? $"{Name}: {OnnxElementTypes.Name(ElementType)}[{string.Join(",", Shape.Select(d => d < 0 ? "?" : d.ToString(System.Globalization.CultureInfo.InvariantCulture)))}]"
            : $"{Name}: {Kind.ToString().ToLowerInvariant()}";
}
