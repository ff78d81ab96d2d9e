using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Training.Model;

/// <summary>
/// Reads an MLP back from ONNX for fine-tuning (<c>dq train --init</c>): any chain of Gemm layers with Relu between
/// them, the weights stored [in,out] (transB = 0, as the exporter writes) or [out,in] (transB = 1, as PyTorch
/// exports), followed optionally by a Softmax. Anything else is refused with the node that does not fit.
/// </summary>
public static class MlpOnnxImporter
{
    public static MlpModel Load(string path) => FromOnnx(OnnxModelReader.ReadFile(path), path);

    public static MlpModel FromOnnx(OnnxModel onnx, string source)
    {
        ArgumentNullException.ThrowIfNull(onnx);
        var graph = onnx.Graph;
        var layers = new List<(float[] Weights, float[] Bias, int In, int Out)>();
        var expectRelu = false;
        foreach (var node in graph.Nodes)
        {
            switch (node.OpType)
            {
                case "Gemm":
                    if (expectRelu)
                    {
                        Fail(source, node, "two Gemm layers without a Relu between them");
                    }

                    layers.Add(ReadGemm(graph, node, source));
                    expectRelu = true;
                    break;
                case "Relu" when expectRelu:
                    expectRelu = false;
                    break;
                case "Softmax":
                case "Flatten" when layers.Count == 0:
                case "Identity":
                    break;
                default:
                    Fail(source, node, "only Gemm/Relu chains (with an optional Flatten and Softmax) can be trained");
                    break;
            }
        }

        if (layers.Count == 0)
        {
            throw new InvalidDataException($"ONNX model '{source}' has no Gemm layer: it is not an MLP classifier dq can train.");
        }

        var sizes = new int[layers.Count + 1];
        sizes[0] = layers[0].In;
        for (var l = 0; l < layers.Count; l++)
        {
            if (layers[l].In != sizes[l])
            {
                throw new InvalidDataException($"ONNX model '{source}': layer {l + 1} takes {layers[l].In} inputs, the layer before gives {sizes[l]}.");
            }

            sizes[l + 1] = layers[l].Out;
        }

        var shape = new MlpShape(sizes);
        var model = new MlpModel(shape, new float[shape.ParameterCount]);
        for (var l = 0; l < layers.Count; l++)
        {
            layers[l].Weights.CopyTo(model.Weights(l));
            layers[l].Bias.CopyTo(model.Bias(l));
        }

        return model;
    }

    private static (float[] Weights, float[] Bias, int In, int Out) ReadGemm(OnnxGraph graph, OnnxNode node, string source)
    {
        if (node.Attribute("transA")?.IntValue is 1)
        {
            Fail(source, node, "transA = 1 is not supported");
        }

        var alpha = node.Attribute("alpha")?.FloatValue ?? 1f;
        var beta = node.Attribute("beta")?.FloatValue ?? 1f;
        if (alpha != 1f || beta != 1f)
        {
            Fail(source, node, $"alpha = {alpha}, beta = {beta}; only 1 and 1 are supported");
        }

        if (node.Inputs.Count < 2 || graph.Initializer(node.Inputs[1]) is not { } weight || weight.Shape.Length != 2)
        {
            Fail(source, node, "its weight is not a 2-D initializer");
            return default;
        }

        var transposed = node.Attribute("transB")?.IntValue is 1;
        var outputs = (int)(transposed ? weight.Shape[0] : weight.Shape[1]);
        var inputs = (int)(transposed ? weight.Shape[1] : weight.Shape[0]);
        var values = weight.ToFloatArray();
        var weights = new float[inputs * outputs];
        for (var i = 0; i < inputs; i++)
        {
            for (var o = 0; o < outputs; o++)
            {
                weights[(i * outputs) + o] = transposed ? values[(o * inputs) + i] : values[(i * outputs) + o];
            }
        }

        var bias = new float[outputs];
        if (node.Inputs.Count > 2 && !string.IsNullOrEmpty(node.Inputs[2]))
        {
            if (graph.Initializer(node.Inputs[2]) is not { } biasTensor || biasTensor.ElementCount != outputs)
            {
                Fail(source, node, $"its bias is not an initializer of {outputs} values");
                return default;
            }

            biasTensor.ToFloatArray().CopyTo(bias, 0);
        }

        return (weights, bias, inputs, outputs);
    }

    private static void Fail(string source, OnnxNode node, string why) =>
        throw new InvalidDataException($"ONNX model '{source}': node '{node.Name}' ({node.OpType}): {why}.");
}
