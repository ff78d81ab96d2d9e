namespace DatasetQuant.Onnx.Model;

/// <summary>ONNX's <c>AttributeProto.AttributeType</c>, for the kinds DatasetQuant writes and reads.</summary>
public enum OnnxAttributeType
{
    Undefined = 0,
    Float = 1,
    Int = 2,
    String = 3,
    Tensor = 4,
    Graph = 5,
    Floats = 6,
    Ints = 7,
    Strings = 8,
}

/// <summary>A node attribute. Exactly one value field is meaningful, chosen by <see cref="Type"/>.</summary>
public sealed class OnnxAttribute
{
    private OnnxAttribute(string name, OnnxAttributeType type)
    {
        Name = name;
        Type = type;
    }

    public string Name { get; }

    public OnnxAttributeType Type { get; }

    public float FloatValue { get; private init; }

    public long IntValue { get; private init; }

    public string StringValue { get; private init; } = string.Empty;

    public float[] Floats { get; private init; } = [];

    public long[] Ints { get; private init; } = [];

    public string[] Strings { get; private init; } = [];

    public OnnxTensor? Tensor { get; private init; }

    public static OnnxAttribute Float(string name, float value) => new(name, OnnxAttributeType.Float) { FloatValue = value };

    public static OnnxAttribute Int(string name, long value) => new(name, OnnxAttributeType.Int) { IntValue = value };

    public static OnnxAttribute String(string name, string value) => new(name, OnnxAttributeType.String) { StringValue = value };

    public static OnnxAttribute FloatList(string name, params float[] values) => new(name, OnnxAttributeType.Floats) { Floats = values };

    public static OnnxAttribute IntList(string name, params long[] values) => new(name, OnnxAttributeType.Ints) { Ints = values };

    public static OnnxAttribute StringList(string name, params string[] values) => new(name, OnnxAttributeType.Strings) { Strings = values };

    public static OnnxAttribute FromTensor(string name, OnnxTensor value) => new(name, OnnxAttributeType.Tensor) { Tensor = value };

    /// <summary>A subgraph attribute the reader kept as opaque bytes (DatasetQuant does not interpret subgraphs).</summary>
    internal static OnnxAttribute OpaqueGraph(string name) => new(name, OnnxAttributeType.Graph);

    public override string ToString() => Type switch
    {
        OnnxAttributeType.Float => $"{Name}={FloatValue}",
        OnnxAttributeType.Int => $"{Name}={IntValue}",
        OnnxAttributeType.String => $"{Name}='{StringValue}'",
        OnnxAttributeType.Ints => $"{Name}=[{string.Join(",", Ints)}]",
        OnnxAttributeType.Floats => $"{Name}=[{string.Join(",", Floats)}]",
        _ => $"{Name}:{Type}",
    };
}
