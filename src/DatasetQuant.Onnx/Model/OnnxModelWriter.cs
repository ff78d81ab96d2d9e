using DatasetQuant.Onnx.Protobuf;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Model;

/// <summary>Serialises an <see cref="OnnxModel"/> to the ONNX protobuf format (initializers as raw_data).</summary>
public static class OnnxModelWriter
{
    public static byte[] Write(OnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var w = new ProtoWriter();
        w.Varint(F.Model.IrVersion, model.IrVersion);
        w.String(F.Model.ProducerName, model.ProducerName);
        w.String(F.Model.ProducerVersion, model.ProducerVersion);
        w.String(F.Model.DocString, model.DocString);
        w.Message(F.Model.Graph, WriteGraph(model.Graph));
        foreach (var (domain, version) in model.Opsets)
        {
            var op = new ProtoWriter();
            op.String(F.OperatorSet.Domain, domain);
            op.Varint(F.OperatorSet.Version, version);
            w.Message(F.Model.OpsetImport, op);
        }

        foreach (var (key, value) in model.Metadata)
        {
            var pair = new ProtoWriter();
            pair.String(F.StringPair.Key, key);
            pair.String(F.StringPair.Value, value);
            w.Message(F.Model.MetadataProps, pair);
        }

        return w.WrittenSpan.ToArray();
    }

    /// <summary>Writes the model to <paramref name="path"/> atomically (temp file, fsync, rename, fsync the folder).</summary>
    public static void WriteFile(OnnxModel model, string path) => DatasetQuant.Core.IO.AtomicFile.WriteAllBytes(path, Write(model));

    /// <summary>A TensorProto on its own, as ONNX's test data stores inputs and outputs.</summary>
    public static byte[] WriteTensor(OnnxTensor tensor) => WriteTensorMessage(tensor).WrittenSpan.ToArray();

    private static ProtoWriter WriteGraph(OnnxGraph graph)
    {
        var w = new ProtoWriter();
        foreach (var node in graph.Nodes)
        {
            w.Message(F.Graph.Node, WriteNode(node));
        }

        w.String(F.Graph.Name, graph.Name);
        foreach (var init in graph.Initializers)
        {
            w.Message(F.Graph.Initializer, WriteTensorMessage(init));
        }

        foreach (var input in graph.Inputs)
        {
            w.Message(F.Graph.Input, WriteValueInfo(input));
        }

        foreach (var output in graph.Outputs)
        {
            w.Message(F.Graph.Output, WriteValueInfo(output));
        }

        return w;
    }

    private static ProtoWriter WriteNode(OnnxNode node)
    {
        var w = new ProtoWriter();
        foreach (var input in node.Inputs)
        {
            w.Bytes(F.Node.Input, System.Text.Encoding.UTF8.GetBytes(input)); // empty names mark omitted optional inputs
        }

        foreach (var output in node.Outputs)
        {
            w.Bytes(F.Node.Output, System.Text.Encoding.UTF8.GetBytes(output));
        }

        w.String(F.Node.Name, node.Name);
        w.String(F.Node.OpType, node.OpType);
        foreach (var attribute in node.Attributes)
        {
            w.Message(F.Node.Attribute, WriteAttribute(attribute));
        }

        w.String(F.Node.Domain, node.Domain);
        return w;
    }

    private static ProtoWriter WriteAttribute(OnnxAttribute a)
    {
        var w = new ProtoWriter();
        w.String(F.Attribute.Name, a.Name);
        switch (a.Type)
        {
            case OnnxAttributeType.Float:
                w.Float(F.Attribute.F, a.FloatValue);
                break;
            case OnnxAttributeType.Int:
                w.Varint(F.Attribute.I, a.IntValue);
                break;
            case OnnxAttributeType.String:
                w.Bytes(F.Attribute.S, System.Text.Encoding.UTF8.GetBytes(a.StringValue));
                break;
            case OnnxAttributeType.Tensor:
                w.Message(F.Attribute.T, WriteTensorMessage(a.Tensor!));
                break;
            case OnnxAttributeType.Floats:
                w.PackedFloats(F.Attribute.Floats, a.Floats);
                break;
            case OnnxAttributeType.Ints:
                w.PackedVarints(F.Attribute.Ints, a.Ints);
                break;
            case OnnxAttributeType.Strings:
                foreach (var s in a.Strings)
                {
                    w.Bytes(F.Attribute.Strings, System.Text.Encoding.UTF8.GetBytes(s));
                }

                break;
            default:
                throw new NotSupportedException($"Attribute '{a.Name}' of type {a.Type} cannot be written.");
        }

        w.Varint(F.Attribute.Type, (long)a.Type);
        return w;
    }

    private static ProtoWriter WriteTensorMessage(OnnxTensor t)
    {
        var w = new ProtoWriter();
        w.PackedVarints(F.Tensor.Dims, t.Shape);
        w.Varint(F.Tensor.DataType, (long)t.ElementType);
        w.String(F.Tensor.Name, t.Name);
        if (t.ElementType == OnnxElementType.String)
        {
            foreach (var s in t.Strings!)
            {
                w.Bytes(F.Tensor.StringData, System.Text.Encoding.UTF8.GetBytes(s));
            }
        }
        else
        {
            w.Bytes(F.Tensor.RawData, t.Data);
        }

        return w;
    }

    private static ProtoWriter WriteValueInfo(OnnxValueInfo info)
    {
        var shape = new ProtoWriter();
        for (var axis = 0; axis < info.Shape.Length; axis++)
        {
            var dim = new ProtoWriter();
            if (info.Shape[axis] >= 0)
            {
                dim.Varint(F.Dimension.Value, info.Shape[axis]);
            }
            else
            {
                dim.String(F.Dimension.Param, info.DimensionName(axis));
            }

            shape.Message(F.Shape.Dim, dim);
        }

        var tensorType = new ProtoWriter();
        tensorType.Varint(F.TensorType.ElemType, (long)info.ElementType);
        tensorType.Message(F.TensorType.Shape, shape);
        var type = new ProtoWriter();
        type.Message(F.TypeProto.TensorType, tensorType);
        var w = new ProtoWriter();
        w.String(F.ValueInfo.Name, info.Name);
        w.Message(F.ValueInfo.Type, type);
        return w;
    }
}
