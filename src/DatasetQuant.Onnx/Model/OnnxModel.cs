namespace DatasetQuant.Onnx.Model;

/// <summary>
/// An ONNX model in memory: what <see cref="OnnxModelWriter"/> writes and <see cref="OnnxModelReader"/> reads back.
/// Covers plain inference graphs (no subgraphs, no external data).
/// </summary>
public sealed class OnnxModel
{
    public OnnxModel(OnnxGraph graph) => Graph = graph;

    /// <summary>ONNX IR version; 8 pairs with opset 17–18 and is read by every ONNX Runtime since 1.14.</summary>
    public long IrVersion { get; set; } = 8;

    /// <summary>Operator sets the graph uses: domain ("" for the default ONNX domain) and version.</summary>
    public Dictionary<string, long> Opsets { get; } = new(StringComparer.Ordinal) { [string.Empty] = 17 };

    public string ProducerName { get; set; } = "DatasetQuant";

    public string ProducerVersion { get; set; } = "0.1.0";

    public string DocString { get; set; } = string.Empty;

    /// <summary>Free-form key/value pairs stored in <c>metadata_props</c>.</summary>
    public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);

    public OnnxGraph Graph { get; }
}

/// <summary>An input or output of a graph: name, element type and shape (-1 for a named symbolic dimension).</summary>
public sealed record OnnxValueInfo(string Name, OnnxElementType ElementType, long[] Shape, string[]? DimensionNames = null)
{
    /// <summary>The symbolic name written for dimension <paramref name="axis"/> when it is -1.</summary>
    public string DimensionName(int axis) => DimensionNames is { } names && axis < names.Length && !string.IsNullOrEmpty(names[axis]) ? names[axis] : axis == 0 ? "N" : $"d{axis}";
}

/// <summary>One operator: op type, inputs and outputs by value name, attributes.</summary>
public sealed class OnnxNode
{
    public OnnxNode(string opType, IReadOnlyList<string> inputs, IReadOnlyList<string> outputs, string name = "", string domain = "")
    {
        OpType = opType;
        Inputs = [.. inputs];
        Outputs = [.. outputs];
        Name = name;
        Domain = domain;
    }

    public string OpType { get; }

    public string Name { get; set; }

    public string Domain { get; set; }

    public List<string> Inputs { get; }

    public List<string> Outputs { get; }

    public List<OnnxAttribute> Attributes { get; } = [];

    public OnnxAttribute? Attribute(string name) => Attributes.Find(a => string.Equals(a.Name, name, StringComparison.Ordinal));

    public override string ToString() => $"{OpType}({string.Join(", ", Inputs)}) -> {string.Join(", ", Outputs)}";
}
