using DatasetQuant.Onnx.Protobuf;
using E = DatasetQuant.Onnx.Model.OnnxProtoFields.ContainerElement;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Model;

/// <summary>
/// Reads a serialized ONNX value (ONNX's test-data input_N.pb/output_N.pb) as the kind a model declares for it:
/// TensorProto, SequenceProto (of tensors) or OptionalProto (holding a tensor, a sequence of tensors, or nothing).
/// The file does not say which message it holds, so the caller names the kind. Sequences of sequences, maps and
/// sparse tensors are refused with a clear error: ONNX Runtime's sequences hold tensors only.
/// </summary>
public static class OnnxValueReader
{
    public static OnnxValue ReadFile(string path, OnnxValueKind kind)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Value file '{path}' does not exist.", path);
        }

        return Read(File.ReadAllBytes(path), kind, path);
    }

    public static OnnxValue Read(ReadOnlySpan<byte> data, OnnxValueKind kind, string source = "(value)") => kind switch
    {
        OnnxValueKind.Tensor => OnnxTensorReader.Read(data, source),
        OnnxValueKind.Sequence => ReadSequence(data, source),
        OnnxValueKind.Optional => ReadOptional(data, source),
        _ => throw new NotSupportedException($"{source}: reading a {kind} value is not supported (tensors, sequences and optionals are)."),
    };

    public static OnnxSequence ReadSequence(ReadOnlySpan<byte> data, string source = "(sequence)")
    {
        var r = new ProtoReader(data, source, "SequenceProto");
        return ReadSequence(ref r);
    }

    public static OnnxOptional ReadOptional(ReadOnlySpan<byte> data, string source = "(optional)")
    {
        var r = new ProtoReader(data, source, "OptionalProto");
        var name = string.Empty;
        var elemType = E.Undefined;
        OnnxValue? value = null;
        while (r.Next(out var field, out var type))
        {
            switch (field)
            {
                case F.Optional.Name when type == ProtoWireType.LengthDelimited:
                    name = r.ReadString();
                    break;
                case F.Optional.ElemType when type == ProtoWireType.Varint:
                    elemType = (int)r.ReadInt64();
                    break;
                case F.Optional.TensorValue when type == ProtoWireType.LengthDelimited:
                    var t = r.ReadMessage("TensorProto");
                    value = OnnxTensorReader.ReadTensor(ref t);
                    break;
                case F.Optional.SequenceValue when type == ProtoWireType.LengthDelimited:
                    var s = r.ReadMessage("SequenceProto");
                    value = ReadSequence(ref s);
                    break;
                case F.Optional.SparseTensorValue or F.Optional.MapValue or F.Optional.OptionalValue:
                    r.Fail($"optional '{name}' holds a {FieldKind(field)}, which ONNX Runtime's optionals cannot");
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        var expected = value switch
        {
            OnnxTensor => E.Tensor,
            OnnxSequence => E.Sequence,
            _ => E.Undefined,
        };
        if (elemType != expected)
        {
            r.Fail($"optional '{name}' declares elem_type {elemType} but holds {(value is null ? "nothing" : value.Kind.ToString().ToLowerInvariant())}");
        }

        return new OnnxOptional(name, value?.WithName(name));
    }

    private static OnnxSequence ReadSequence(ref ProtoReader r)
    {
        var name = string.Empty;
        var elemType = E.Undefined;
        List<OnnxTensor> tensors = [];
        while (r.Next(out var field, out var type))
        {
            switch (field)
            {
                case F.Sequence.Name when type == ProtoWireType.LengthDelimited:
                    name = r.ReadString();
                    break;
                case F.Sequence.ElemType when type == ProtoWireType.Varint:
                    elemType = (int)r.ReadInt64();
                    break;
                case F.Sequence.TensorValues when type == ProtoWireType.LengthDelimited:
                    var t = r.ReadMessage("TensorProto");
                    tensors.Add(OnnxTensorReader.ReadTensor(ref t));
                    break;
                case F.Sequence.SparseTensorValues or F.Sequence.SequenceValues or F.Sequence.MapValues or F.Sequence.OptionalValues:
                    r.Fail($"sequence '{name}' holds {FieldKind(field)}s; ONNX Runtime's sequences hold tensors only");
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        if (elemType != E.Tensor && !(elemType == E.Undefined && tensors.Count == 0))
        {
            r.Fail($"sequence '{name}' has elem_type {elemType}; only tensor sequences (1) are read");
        }

        // An empty sequence's element type is not in the message; the model's declaration supplies it when it is fed.
        var elementType = tensors.Count > 0 ? tensors[0].ElementType : OnnxElementType.Undefined;
        for (var i = 1; i < tensors.Count; i++)
        {
            if (tensors[i].ElementType != elementType)
            {
                r.Fail($"sequence '{name}' mixes {OnnxElementTypes.Name(elementType)} and {OnnxElementTypes.Name(tensors[i].ElementType)} tensors (element {i})");
            }
        }

        return new OnnxSequence(name, elementType, tensors);
    }

    private static string FieldKind(int field) => field switch
    {
        F.Sequence.SparseTensorValues => "sparse tensor",
        F.Sequence.SequenceValues => "sequence",
        F.Sequence.MapValues => "map",
        _ => "optional",
    };
}
