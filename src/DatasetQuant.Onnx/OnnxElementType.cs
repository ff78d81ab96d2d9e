namespace DatasetQuant.Onnx;

/// <summary>ONNX tensor element types; the numbers are ONNX's <c>TensorProto.DataType</c> and ORT's element enum.</summary>
public enum OnnxElementType
{
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    Complex64 = 14,
    Complex128 = 15,
    BFloat16 = 16,
    Float8E4M3FN = 17,
    Float8E4M3FNUZ = 18,
    Float8E5M2 = 19,
    Float8E5M2FNUZ = 20,
    UInt4 = 21,
    Int4 = 22,
    Float4E2M1 = 23,
}

/// <summary>Sizes and names of <see cref="OnnxElementType"/>.</summary>
public static class OnnxElementTypes
{
    /// <summary>Bytes per element, 0 for strings; the 4-bit types report 1 (they pack two per byte, see <see cref="ByteLength"/>).</summary>
    public static int Size(OnnxElementType type) => type switch
    {
        OnnxElementType.Float or OnnxElementType.Int32 or OnnxElementType.UInt32 => 4,
        OnnxElementType.UInt8 or OnnxElementType.Int8 or OnnxElementType.Bool => 1,
        OnnxElementType.UInt16 or OnnxElementType.Int16 or OnnxElementType.Float16 or OnnxElementType.BFloat16 => 2,
        OnnxElementType.Int64 or OnnxElementType.UInt64 or OnnxElementType.Double or OnnxElementType.Complex64 => 8,
        OnnxElementType.Complex128 => 16,
        OnnxElementType.Float8E4M3FN or OnnxElementType.Float8E4M3FNUZ or OnnxElementType.Float8E5M2
            or OnnxElementType.Float8E5M2FNUZ or OnnxElementType.UInt4 or OnnxElementType.Int4 or OnnxElementType.Float4E2M1 => 1,
        _ => 0,
    };

    /// <summary>Bytes that <paramref name="elements"/> values take in ONNX's raw layout (4-bit types pack two per byte).</summary>
    public static long ByteLength(OnnxElementType type, long elements) => type switch
    {
        OnnxElementType.UInt4 or OnnxElementType.Int4 or OnnxElementType.Float4E2M1 => (elements + 1) / 2,
        _ => elements * Size(type),
    };

    public static string Name(OnnxElementType type) => type switch
    {
        OnnxElementType.Float => "float32",
        OnnxElementType.Double => "float64",
        OnnxElementType.Float16 => "float16",
        _ => type.ToString().ToLowerInvariant(),
    };
}
