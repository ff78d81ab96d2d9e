namespace DatasetQuant.Onnx.Interop;

/// <summary>Turns an <c>OrtTypeInfo*</c> into an <see cref="OnnxTensorInfo"/>, following sequences and optionals inward.</summary>
internal static unsafe class OrtTypeInfo
{
    // ONNX nests optional(sequence(tensor)) at most; the bound only guards against a malformed model looping.
    private const int MaxDepth = 8;

    public static OnnxTensorInfo Describe(string name, nint typeInfo, int depth = 0)
    {
        if (depth > MaxDepth)
        {
            throw new OnnxRuntimeException($"'{name}' nests sequence/optional types more than {MaxDepth} deep.");
        }

        int kind;
        OrtStatus.Check(OrtApi.GetOnnxTypeFromTypeInfo(typeInfo, &kind));
        switch ((OnnxValueKind)kind)
        {
            case OnnxValueKind.Tensor:
                nint tensorInfo; // owned by typeInfo: not released separately
                OrtStatus.Check(OrtApi.CastTypeInfoToTensorInfo(typeInfo, &tensorInfo));
                var (type, shape) = OrtTensorShape.Read(tensorInfo);
                return new OnnxTensorInfo(name, OnnxValueKind.Tensor, type, shape);
            case OnnxValueKind.Sequence:
                nint sequenceInfo; // owned by typeInfo
                OrtStatus.Check(OrtApi.CastTypeInfoToSequenceTypeInfo(typeInfo, &sequenceInfo));
                nint elementInfo; // a new OrtTypeInfo: released below
                OrtStatus.Check(OrtApi.GetSequenceElementType(sequenceInfo, &elementInfo));
                return Wrap(name, OnnxValueKind.Sequence, elementInfo, depth);
            case OnnxValueKind.Optional:
                nint optionalInfo; // owned by typeInfo
                OrtStatus.Check(OrtApi.CastTypeInfoToOptionalTypeInfo(typeInfo, &optionalInfo));
                nint containedInfo; // a new OrtTypeInfo: released below
                OrtStatus.Check(OrtApi.GetOptionalContainedTypeInfo(optionalInfo, &containedInfo));
                return Wrap(name, OnnxValueKind.Optional, containedInfo, depth);
            default:
                return new OnnxTensorInfo(name, (OnnxValueKind)kind, OnnxElementType.Undefined, []);
        }
    }

    private static OnnxTensorInfo Wrap(string name, OnnxValueKind kind, nint innerTypeInfo, int depth)
    {
        try
        {
            var inner = Describe(name, innerTypeInfo, depth + 1);
            return new OnnxTensorInfo(name, kind, inner.ElementType, inner.Shape) { Contained = inner };
        }
        finally
        {
            OrtApi.ReleaseTypeInfo(innerTypeInfo);
        }
    }
}
