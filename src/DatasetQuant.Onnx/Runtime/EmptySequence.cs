using System.Collections.Concurrent;
using DatasetQuant.Onnx.Protobuf;
using Microsoft.ML.OnnxRuntime;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>
/// Empty sequence values. ONNX Runtime's <c>CreateValue</c> (behind <see cref="OrtValue.CreateSequence"/>) refuses zero
/// elements, so an empty sequence is made the one way the API does allow: as the output of a one-node
/// <c>SequenceEmpty</c> model (one small session per element type, kept for the life of the process).
/// </summary>
internal static class EmptySequence
{
    private const int IrVersion = 8;
    private const int SequenceEmptyOpset = 11;
    private const int AttributeTypeInt = 2;
    private static readonly string[] OutputNames = ["empty"];

    private static readonly ConcurrentDictionary<OnnxElementType, Lazy<InferenceSession>> Sessions = new();

    /// <summary>A new empty sequence of <paramref name="elementType"/> tensors; the caller disposes it.</summary>
    public static OrtValue Create(OnnxElementType elementType, string name)
    {
        if (elementType == OnnxElementType.Undefined)
        {
            throw new ArgumentException($"Empty sequence '{name}' has no element type; give the one the model declares.", nameof(elementType));
        }

        var session = Sessions.GetOrAdd(elementType, t => new Lazy<InferenceSession>(() =>
        {
            using var options = SessionOptionsFactory.Create(new OnnxSessionOptions { IntraOpThreads = 1, InterOpThreads = 1 }, out _);
            return new InferenceSession(Model(t), options);
        })).Value;
        using var runOptions = new RunOptions();
        var results = session.Run(runOptions, [], [], OutputNames);
        return results.Single(); // the one output, handed to the caller with its ownership
    }

    private static byte[] Model(OnnxElementType elementType)
    {
        var dtype = new ProtoWriter();
        dtype.String(F.Attribute.Name, "dtype");
        dtype.Varint(F.Attribute.I, (int)elementType);
        dtype.Varint(F.Attribute.Type, AttributeTypeInt);

        var node = new ProtoWriter();
        node.String(F.Node.Output, "empty");
        node.String(F.Node.OpType, "SequenceEmpty");
        node.Message(F.Node.Attribute, dtype);

        var tensorType = new ProtoWriter();
        tensorType.Varint(F.TensorType.ElemType, (int)elementType);
        var elementTypeProto = new ProtoWriter();
        elementTypeProto.Message(F.TypeProto.TensorType, tensorType);
        var sequenceType = new ProtoWriter();
        sequenceType.Message(F.SequenceType.ElemType, elementTypeProto);
        var typeProto = new ProtoWriter();
        typeProto.Message(F.TypeProto.SequenceType, sequenceType);
        var output = new ProtoWriter();
        output.String(F.ValueInfo.Name, "empty");
        output.Message(F.ValueInfo.Type, typeProto);

        var graph = new ProtoWriter();
        graph.Message(F.Graph.Node, node);
        graph.String(F.Graph.Name, "empty_sequence");
        graph.Message(F.Graph.Output, output);

        var opset = new ProtoWriter();
        opset.String(F.OperatorSet.Domain, string.Empty);
        opset.Varint(F.OperatorSet.Version, SequenceEmptyOpset);

        var model = new ProtoWriter();
        model.Varint(F.Model.IrVersion, IrVersion);
        model.Message(F.Model.Graph, graph);
        model.Message(F.Model.OpsetImport, opset);
        return model.WrittenSpan.ToArray();
    }
}
