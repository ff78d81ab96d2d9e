namespace DatasetQuant.Onnx.Model;

/// <summary>
/// A graph and the small builder API the generator and classifier exporters use: inputs, outputs, initializers and
/// nodes, with fresh value names from <see cref="Fresh"/>. Helpers return the name of the value they produce.
/// </summary>
public sealed class OnnxGraph
{
    private int _counter;

    public OnnxGraph(string name) => Name = name;

    public string Name { get; set; }

    public List<OnnxNode> Nodes { get; } = [];

    public List<OnnxTensor> Initializers { get; } = [];

    public List<OnnxValueInfo> Inputs { get; } = [];

    public List<OnnxValueInfo> Outputs { get; } = [];

    public OnnxTensor? Initializer(string name) => Initializers.Find(t => string.Equals(t.Name, name, StringComparison.Ordinal));

    public string AddInput(string name, OnnxElementType type, params long[] shape)
    {
        Inputs.Add(new OnnxValueInfo(name, type, shape));
        return name;
    }

    public void AddOutput(string name, OnnxElementType type, params long[] shape) => Outputs.Add(new OnnxValueInfo(name, type, shape));

    public string AddInitializer(string name, ReadOnlySpan<float> values, params long[] shape)
    {
        Initializers.Add(OnnxTensor.FromFloats(name, values, shape));
        return name;
    }

    public string AddInitializer(string name, ReadOnlySpan<long> values, params long[] shape)
    {
        Initializers.Add(OnnxTensor.FromInt64s(name, values, shape));
        return name;
    }

    /// <summary>Adds a node with one output named <paramref name="output"/> (or a fresh name) and returns that name.</summary>
    public string Add(string opType, IReadOnlyList<string> inputs, string? output = null, params OnnxAttribute[] attributes)
    {
        output ??= Fresh(opType.ToLowerInvariant());
        var node = new OnnxNode(opType, inputs, [output], name: output);
        node.Attributes.AddRange(attributes);
        Nodes.Add(node);
        return output;
    }

    public string Fresh(string stem) => $"{stem}_{_counter++}";

    /// <summary>y = x·Wᵀ + b with W stored [out,in] as PyTorch's Linear does.</summary>
    public string Gemm(string x, string prefix, ReadOnlySpan<float> weightOutIn, ReadOnlySpan<float> bias, int inFeatures, int outFeatures, string? output = null)
    {
        var w = AddInitializer(prefix + ".weight", weightOutIn, outFeatures, inFeatures);
        var b = AddInitializer(prefix + ".bias", bias, outFeatures);
        return Add("Gemm", [x, w, b], output, OnnxAttribute.Int("transB", 1));
    }

    /// <summary>2-D convolution, weights [out,in,k,k].</summary>
    public string Conv(string x, string prefix, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inChannels, int outChannels, int kernel, int stride, int pad, string? output = null)
    {
        var w = AddInitializer(prefix + ".weight", weight, outChannels, inChannels, kernel, kernel);
        var b = AddInitializer(prefix + ".bias", bias, outChannels);
        return Add("Conv", [x, w, b], output,
            OnnxAttribute.IntList("kernel_shape", kernel, kernel), OnnxAttribute.IntList("strides", stride, stride),
            OnnxAttribute.IntList("pads", pad, pad, pad, pad));
    }

    /// <summary>2-D transposed convolution, weights [in,out,k,k] as PyTorch's ConvTranspose2d stores them.</summary>
    public string ConvTranspose(string x, string prefix, ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inChannels, int outChannels, int kernel, int stride, int pad, string? output = null)
    {
        var w = AddInitializer(prefix + ".weight", weight, inChannels, outChannels, kernel, kernel);
        var b = AddInitializer(prefix + ".bias", bias, outChannels);
        return Add("ConvTranspose", [x, w, b], output,
            OnnxAttribute.IntList("kernel_shape", kernel, kernel), OnnxAttribute.IntList("strides", stride, stride),
            OnnxAttribute.IntList("pads", pad, pad, pad, pad));
    }

    /// <summary>BatchNormalization in inference mode (scale, bias, running mean and variance per channel).</summary>
    public string BatchNorm(string x, string prefix, ReadOnlySpan<float> scale, ReadOnlySpan<float> bias, ReadOnlySpan<float> mean, ReadOnlySpan<float> variance, float epsilon = 1e-5f, string? output = null)
    {
        var n = scale.Length;
        var inputs = new[]
        {
            x,
            AddInitializer(prefix + ".scale", scale, n),
            AddInitializer(prefix + ".bias", bias, n),
            AddInitializer(prefix + ".mean", mean, n),
            AddInitializer(prefix + ".var", variance, n),
        };
        return Add("BatchNormalization", inputs, output, OnnxAttribute.Float("epsilon", epsilon));
    }

    public string Reshape(string x, ReadOnlySpan<long> shape, string? output = null)
    {
        var s = AddInitializer(Fresh("shape"), shape, shape.Length);
        return Add("Reshape", [x, s], output);
    }

    public string Relu(string x, string? output = null) => Add("Relu", [x], output);

    public string Tanh(string x, string? output = null) => Add("Tanh", [x], output);

    public string Softmax(string x, long axis = -1, string? output = null) => Add("Softmax", [x], output, OnnxAttribute.Int("axis", axis));
}
