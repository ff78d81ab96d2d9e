using Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>Turns ONNX Runtime's <see cref="NodeMetadata"/> into an <see cref="OnnxTensorInfo"/>, following sequences and optionals inward.</summary>
internal static class MetadataReader
{
    // ONNX nests optional(sequence(tensor)) at most; the bound only guards against a malformed model looping.
    private const int MaxDepth = 8;

    public static OnnxTensorInfo[] Describe(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata)
    {
        var infos = new OnnxTensorInfo[names.Count];
        for (var i = 0; i < infos.Length; i++)
        {
            infos[i] = Describe(names[i], metadata[names[i]], 0);
        }

        return infos;
    }

    private static OnnxTensorInfo Describe(string name, NodeMetadata meta, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new OnnxRuntimeException($"'{name}' nests sequence/optional types more than {MaxDepth} deep.");
        }

        return meta.OnnxValueType switch
        {
            OnnxValueType.ONNX_TYPE_TENSOR => new OnnxTensorInfo(name, OnnxValueKind.Tensor,
                (OnnxElementType)(int)meta.ElementDataType, Array.ConvertAll(meta.Dimensions, d => (long)d)),
            OnnxValueType.ONNX_TYPE_SEQUENCE => Wrap(name, OnnxValueKind.Sequence, meta.AsSequenceMetadata().ElementMeta, depth),
            OnnxValueType.ONNX_TYPE_OPTIONAL => Wrap(name, OnnxValueKind.Optional, meta.AsOptionalMetadata().ElementMeta, depth),
            var other => new OnnxTensorInfo(name, (OnnxValueKind)(int)other, OnnxElementType.Undefined, []),
        };
    }

    private static OnnxTensorInfo Wrap(string name, OnnxValueKind kind, NodeMetadata inner, int depth)
    {
        var contained = Describe(name, inner, depth + 1);
        return new OnnxTensorInfo(name, kind, contained.ElementType, contained.Shape) { Contained = contained };
    }
}
