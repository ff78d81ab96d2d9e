using System.Globalization;

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

/// <summary>
/// One model input or output: name, kind, element type and shape (-1 for a symbolic dimension). For a sequence,
/// <see cref="Contained"/> describes its elements; for an optional, the value it may hold; the element type and
/// shape of a sequence or optional are those of the tensors inside it.
/// </summary>
public sealed record OnnxTensorInfo(string Name, OnnxValueKind Kind, OnnxElementType ElementType, long[] Shape)
{
    public OnnxTensorInfo? Contained { get; init; }

    public override string ToString() => $"{Name}: {TypeText()}";

    private string TypeText() => Kind switch
    {
        OnnxValueKind.Tensor =>
            $"{OnnxElementTypes.Name(ElementType)}[{string.Join(",", Shape.Select(d => d < 0 ? "?" : d.ToString(CultureInfo.InvariantCulture)))}]",
        OnnxValueKind.Sequence when Contained is not null => $"seq({Contained.TypeText()})",
        OnnxValueKind.Optional when Contained is not null => $"optional({Contained.TypeText()})",
        _ => Kind.ToString().ToLowerInvariant(),
    };
}
