using DatasetQuant.Onnx.Protobuf;
using Microsoft.ML.OnnxRuntime;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>
/// Tells which optional outputs of a run hold a value, before they are read. The managed API turns every output into an
/// <see cref="OrtValue"/> by asking for its type, and for a None optional that reads a value that is not there: the
/// process dies (SIGSEGV) inside <c>InferenceSession.Run</c>, and the API has no <c>HasValue</c> to ask first. So a
/// second session runs the same model with one extra bool output per optional output, computed by ONNX's own
/// <c>OptionalHasElement</c>; the real run then requests only the optionals that are present.
/// The extra nodes are appended as a second serialized <c>ModelProto</c> that holds only them: protobuf merges a
/// repeated message into the one before it, so ONNX Runtime reads the original graph plus the probes, and the original
/// bytes are never rewritten. Optional types need opset 15, where OptionalHasElement exists. For the allocating
/// <see cref="OnnxSession.RunValues"/> only: it costs a second run.
/// </summary>
internal sealed class OptionalOutputProbe : IDisposable
{
    private const int BoolElementType = 9;
    private const string Suffix = "/has_element";

    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();

    public OptionalOutputProbe(byte[] model, IEnumerable<string> optionalOutputs, OnnxSessionOptions options)
    {
        var graph = new ProtoWriter();
        foreach (var name in optionalOutputs)
        {
            var node = new ProtoWriter();
            node.String(F.Node.Input, name);
            node.String(F.Node.Output, name + Suffix);
            node.String(F.Node.OpType, "OptionalHasElement");
            graph.Message(F.Graph.Node, node);

            var tensorType = new ProtoWriter();
            tensorType.Varint(F.TensorType.ElemType, BoolElementType);
            var type = new ProtoWriter();
            type.Message(F.TypeProto.TensorType, tensorType);
            var output = new ProtoWriter();
            output.String(F.ValueInfo.Name, name + Suffix);
            output.Message(F.ValueInfo.Type, type);
            graph.Message(F.Graph.Output, output);
        }

        var appended = new ProtoWriter();
        appended.Message(F.Model.Graph, graph);
        using var sessionOptions = SessionOptionsFactory.Create(options, out _);
        _session = new InferenceSession([.. model, .. appended.WrittenSpan], sessionOptions);
    }

    /// <summary>For each name in <paramref name="optionalOutputs"/>: whether this run's value is present.</summary>
    public bool[] Present(IReadOnlyCollection<string> inputNames, IReadOnlyCollection<OrtValue> inputs, IReadOnlyList<string> optionalOutputs)
    {
        using var flags = _session.Run(_runOptions, inputNames, inputs, optionalOutputs.Select(n => n + Suffix).ToArray());
        return flags.Select(f => f.GetTensorDataAsSpan<bool>()[0]).ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _runOptions.Dispose();
    }
}
