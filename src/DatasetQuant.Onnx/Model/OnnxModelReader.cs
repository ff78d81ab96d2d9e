using DatasetQuant.Onnx.Protobuf;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Model;

/// <summary>
/// Reads an ONNX model's graph (nodes, initializers, inputs, outputs) and metadata. Subgraph attributes are skipped
/// (kept as opaque placeholders); external-data initializers are rejected with a clear error.
/// </summary>
public static class OnnxModelReader
{
    public static OnnxModel ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX model '{path}' does not exist.", path);
        }

        return Read(File.ReadAllBytes(path), path);
    }

    public static OnnxModel Read(ReadOnlySpan<byte> data, string source = "(model)")
    {
        if (data.IsEmpty)
        {
            throw new OnnxFormatException($"{source}: empty file, not an ONNX model.");
        }

        var r = new ProtoReader(data, source, "ModelProto");
        OnnxGraph? graph = null;
        long irVersion = 0;
        string producer = string.Empty, producerVersion = string.Empty, doc = string.Empty;
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        while (r.Next(out var field, out var type))
        {
            switch (field)
            {
                case F.Model.IrVersion when type == ProtoWireType.Varint:
                    irVersion = r.ReadInt64();
                    break;
                case F.Model.ProducerName when type == ProtoWireType.LengthDelimited:
                    producer = r.ReadString();
                    break;
                case F.Model.ProducerVersion when type == ProtoWireType.LengthDelimited:
                    producerVersion = r.ReadString();
                    break;
                case F.Model.DocString when type == ProtoWireType.LengthDelimited:
                    doc = r.ReadString();
                    break;
                case F.Model.Graph when type == ProtoWireType.LengthDelimited:
                    var g = r.ReadMessage("GraphProto");
                    graph = ReadGraph(ref g);
                    break;
                case F.Model.OpsetImport when type == ProtoWireType.LengthDelimited:
                    var op = r.ReadMessage("OperatorSetIdProto");
                    var (domain, version) = ReadOpset(ref op);
                    opsets[domain] = version;
                    break;
                case F.Model.MetadataProps when type == ProtoWireType.LengthDelimited:
                    var pair = r.ReadMessage("StringStringEntryProto");
                    var (key, value) = ReadPair(ref pair);
                    metadata[key] = value;
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        if (graph is null || irVersion == 0)
        {
            throw new OnnxFormatException($"{source}: not an ONNX model (no {(graph is null ? "graph" : "ir_version")} field).");
        }

        var model = new OnnxModel(graph) { IrVersion = irVersion, ProducerName = producer, ProducerVersion = producerVersion, DocString = doc };
        model.Opsets.Clear();
        foreach (var (k, v) in opsets)
        {
            model.Opsets[k] = v;
        }

        foreach (var (k, v) in metadata)
        {
            model.Metadata[k] = v;
        }

        return model;
    }

    private static OnnxGraph ReadGraph(ref ProtoReader r)
    {
        var graph = new OnnxGraph(string.Empty);
        while (r.Next(out var field, out var type))
        {
            if (type != ProtoWireType.LengthDelimited)
            {
                r.Skip(type);
                continue;
            }

            switch (field)
            {
                case F.Graph.Node:
                    var n = r.ReadMessage("NodeProto");
                    graph.Nodes.Add(ReadNode(ref n));
                    break;
                case F.Graph.Name:
                    graph.Name = r.ReadString();
                    break;
                case F.Graph.Initializer:
                    var t = r.ReadMessage("TensorProto");
                    graph.Initializers.Add(OnnxTensorReader.ReadTensor(ref t));
                    break;
                case F.Graph.Input:
                    var i = r.ReadMessage("ValueInfoProto");
                    graph.Inputs.Add(ReadValueInfo(ref i));
                    break;
                case F.Graph.Output:
                    var o = r.ReadMessage("ValueInfoProto");
                    graph.Outputs.Add(ReadValueInfo(ref o));
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        return graph;
    }

    private static OnnxNode ReadNode(ref ProtoReader r)
    {
        List<string> inputs = [], outputs = [];
        var attributes = new List<OnnxAttribute>();
        string name = string.Empty, opType = string.Empty, domain = string.Empty;
        while (r.Next(out var field, out var type))
        {
            if (type != ProtoWireType.LengthDelimited)
            {
                r.Skip(type);
                continue;
            }

            switch (field)
            {
                case F.Node.Input:
                    inputs.Add(r.ReadString());
                    break;
                case F.Node.Output:
                    outputs.Add(r.ReadString());
                    break;
                case F.Node.Name:
                    name = r.ReadString();
                    break;
                case F.Node.OpType:
                    opType = r.ReadString();
                    break;
                case F.Node.Domain:
                    domain = r.ReadString();
                    break;
                case F.Node.Attribute:
                    var a = r.ReadMessage("AttributeProto");
                    attributes.Add(ReadAttribute(ref a));
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        if (opType.Length == 0)
        {
            r.Fail($"node '{name}' has no op_type");
        }

        var node = new OnnxNode(opType, inputs, outputs, name, domain);
        node.Attributes.AddRange(attributes);
        return node;
    }

    private static OnnxAttribute ReadAttribute(ref ProtoReader r)
    {
        var name = string.Empty;
        var kind = OnnxAttributeType.Undefined;
        float f = 0;
        long i = 0;
        string s = string.Empty;
        OnnxTensor? t = null;
        List<float> floats = [];
        List<long> ints = [];
        List<string> strings = [];
        while (r.Next(out var field, out var type))
        {
            switch (field)
            {
                case F.Attribute.Name:
                    name = r.ReadString();
                    break;
                case F.Attribute.Type when type == ProtoWireType.Varint:
                    kind = (OnnxAttributeType)r.ReadInt64();
                    break;
                case F.Attribute.F when type == ProtoWireType.Fixed32:
                    f = r.ReadFloat();
                    break;
                case F.Attribute.I when type == ProtoWireType.Varint:
                    i = r.ReadInt64();
                    break;
                case F.Attribute.S when type == ProtoWireType.LengthDelimited:
                    s = r.ReadString();
                    break;
                case F.Attribute.T when type == ProtoWireType.LengthDelimited:
                    var tr = r.ReadMessage("TensorProto");
                    t = OnnxTensorReader.ReadTensor(ref tr);
                    break;
                case F.Attribute.Floats:
                    OnnxTensorReader.ReadFloats(ref r, type, floats);
                    break;
                case F.Attribute.Ints:
                    r.ReadVarints(type, ints);
                    break;
                case F.Attribute.Strings when type == ProtoWireType.LengthDelimited:
                    strings.Add(r.ReadString());
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        return kind switch
        {
            OnnxAttributeType.Float => OnnxAttribute.Float(name, f),
            OnnxAttributeType.Int => OnnxAttribute.Int(name, i),
            OnnxAttributeType.String => OnnxAttribute.String(name, s),
            OnnxAttributeType.Tensor when t is not null => OnnxAttribute.FromTensor(name, t),
            OnnxAttributeType.Floats => OnnxAttribute.FloatList(name, [.. floats]),
            OnnxAttributeType.Ints => OnnxAttribute.IntList(name, [.. ints]),
            OnnxAttributeType.Strings => OnnxAttribute.StringList(name, [.. strings]),
            _ => OnnxAttribute.OpaqueGraph(name),
        };
    }

    private static OnnxValueInfo ReadValueInfo(ref ProtoReader r)
    {
        var name = string.Empty;
        var elementType = OnnxElementType.Undefined;
        List<long> shape = [];
        List<string> dimNames = [];
        while (r.Next(out var field, out var type))
        {
            if (field == F.ValueInfo.Name && type == ProtoWireType.LengthDelimited)
            {
                name = r.ReadString();
            }
            else if (field == F.ValueInfo.Type && type == ProtoWireType.LengthDelimited)
            {
                var typeProto = r.ReadMessage("TypeProto");
                while (typeProto.Next(out var tf, out var tt))
                {
                    if (tf != F.TypeProto.TensorType || tt != ProtoWireType.LengthDelimited)
                    {
                        typeProto.Skip(tt);
                        continue;
                    }

                    var tensorType = typeProto.ReadMessage("TypeProto.Tensor");
                    while (tensorType.Next(out var xf, out var xt))
                    {
                        if (xf == F.TensorType.ElemType && xt == ProtoWireType.Varint)
                        {
                            elementType = (OnnxElementType)tensorType.ReadInt64();
                        }
                        else if (xf == F.TensorType.Shape && xt == ProtoWireType.LengthDelimited)
                        {
                            var shapeProto = tensorType.ReadMessage("TensorShapeProto");
                            ReadShape(ref shapeProto, shape, dimNames);
                        }
                        else
                        {
                            tensorType.Skip(xt);
                        }
                    }
                }
            }
            else
            {
                r.Skip(type);
            }
        }

        return new OnnxValueInfo(name, elementType, [.. shape], [.. dimNames]);
    }

    private static void ReadShape(ref ProtoReader r, List<long> shape, List<string> names)
    {
        while (r.Next(out var field, out var type))
        {
            if (field != F.Shape.Dim || type != ProtoWireType.LengthDelimited)
            {
                r.Skip(type);
                continue;
            }

            var dim = r.ReadMessage("TensorShapeProto.Dimension");
            long value = -1;
            var param = string.Empty;
            while (dim.Next(out var df, out var dt))
            {
                if (df == F.Dimension.Value && dt == ProtoWireType.Varint)
                {
                    value = dim.ReadInt64();
                }
                else if (df == F.Dimension.Param && dt == ProtoWireType.LengthDelimited)
                {
                    param = dim.ReadString();
                }
                else
                {
                    dim.Skip(dt);
                }
            }

            shape.Add(value);
            names.Add(param);
        }
    }

    private static (string Domain, long Version) ReadOpset(ref ProtoReader r)
    {
        var domain = string.Empty;
        long version = 0;
        while (r.Next(out var field, out var type))
        {
            if (field == F.OperatorSet.Domain && type == ProtoWireType.LengthDelimited)
            {
                domain = r.ReadString();
            }
            else if (field == F.OperatorSet.Version && type == ProtoWireType.Varint)
            {
                version = r.ReadInt64();
            }
            else
            {
                r.Skip(type);
            }
        }

        return (domain, version);
    }

    private static (string Key, string Value) ReadPair(ref ProtoReader r)
    {
        string key = string.Empty, value = string.Empty;
        while (r.Next(out var field, out var type))
        {
            if (field == F.StringPair.Key && type == ProtoWireType.LengthDelimited)
            {
                key = r.ReadString();
            }
            else if (field == F.StringPair.Value && type == ProtoWireType.LengthDelimited)
            {
                value = r.ReadString();
            }
            else
            {
                r.Skip(type);
            }
        }

        return (key, value);
    }
}
