namespace DatasetQuant.Onnx.Interop;

/// <summary>Reads element type and dimensions from an <c>OrtTensorTypeAndShapeInfo*</c>.</summary>
internal static unsafe class OrtTensorShape
{
    public static (OnnxElementType Type, long[] Shape) Read(nint tensorInfo)
    {
        int type;
        OrtStatus.Check(OrtApi.GetTensorElementType(tensorInfo, &type));
        nuint rank;
        OrtStatus.Check(OrtApi.GetDimensionsCount(tensorInfo, &rank));
        var shape = new long[(int)rank];
        fixed (long* s = shape)
        {
            OrtStatus.Check(OrtApi.GetDimensions(tensorInfo, s, rank));
        }

        return ((OnnxElementType)type, shape);
    }

    /// <summary>Type and shape of an <c>OrtValue*</c> that must be a tensor.</summary>
    public static (OnnxElementType Type, long[] Shape) OfValue(nint value, string name)
    {
        int kind;
        OrtStatus.Check(OrtApi.GetValueType(value, &kind));
        if (kind != (int)OnnxValueKind.Tensor)
        {
            throw new NotSupportedException($"'{name}' is a {(OnnxValueKind)kind} where a tensor was expected.");
        }

        nint info;
        OrtStatus.Check(OrtApi.GetTensorTypeAndShape(value, &info));
        try
        {
            return Read(info);
        }
        finally
        {
            OrtApi.ReleaseTensorTypeAndShapeInfo(info);
        }
    }
}
