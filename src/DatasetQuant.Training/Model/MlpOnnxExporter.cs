using DatasetQuant.Onnx;
using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Training.Model;

/// <summary>
/// Writes an <see cref="MlpModel"/> as an ONNX graph: input [N,in] → (Gemm → Relu)* → Gemm → "logits" [N,classes],
/// and "probabilities" = Softmax(logits). Weights go in as stored ([in,out], Gemm with transB = 0), so the file holds
/// exactly the trained numbers and ONNX Runtime computes what the trainer computed.
/// </summary>
public static class MlpOnnxExporter
{
    public const string InputName = "input";
    public const string LogitsName = "logits";
    public const string ProbabilitiesName = "probabilities";
    public const string ShapeMetadataKey = "dq.mlp.layers";

    public static OnnxModel ToOnnx(MlpModel model, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var shape = model.Shape;
        var graph = new OnnxGraph("dq_mlp");
        var value = graph.AddInput(InputName, OnnxElementType.Float, -1, shape.InputSize);
        for (var l = 0; l < shape.LayerCount; l++)
        {
            var w = graph.AddInitializer($"fc{l + 1}.weight", model.Weights(l), shape.InputsOf(l), shape.OutputsOf(l));
            var b = graph.AddInitializer($"fc{l + 1}.bias", model.Bias(l), shape.OutputsOf(l));
            var last = l == shape.LayerCount - 1;
            value = graph.Add("Gemm", [value, w, b], last ? LogitsName : null);
            if (!last)
            {
                value = graph.Relu(value);
            }
        }

        graph.Softmax(LogitsName, axis: 1, output: ProbabilitiesName);
        graph.AddOutput(LogitsName, OnnxElementType.Float, -1, shape.ClassCount);
        graph.AddOutput(ProbabilitiesName, OnnxElementType.Float, -1, shape.ClassCount);
        var onnx = new OnnxModel(graph) { DocString = $"DatasetQuant MLP {shape}" };
        onnx.Metadata[ShapeMetadataKey] = shape.ToString();
        if (metadata is not null)
        {
            foreach (var (key, text) in metadata)
            {
                onnx.Metadata[key] = text;
            }
        }

        return onnx;
    }

    /// <summary>Writes the model atomically to <paramref name="path"/>.</summary>
    public static void Save(MlpModel model, string path, IReadOnlyDictionary<string, string>? metadata = null) =>
        OnnxModelWriter.WriteFile(ToOnnx(model, metadata), path);
}
