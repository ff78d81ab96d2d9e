using System.Buffers.Binary;

namespace DatasetQuant.Onnx.Tests.NodeTests;

/// <summary>ONNX's backend-test comparison: same type and shape; floats within rtol 1e-3 + atol 1e-7; the rest exact.</summary>
internal static class TensorComparer
{
    private const double RelativeTolerance = 1e-3;
    private const double AbsoluteTolerance = 1e-7;

    public static string? Difference(OnnxTensor expected, OnnxTensor actual)
    {
        if (expected.ElementType != actual.ElementType)
        {
            return $"type {actual.ElementType}, expected {expected.ElementType}";
        }

        if (!expected.Shape.SequenceEqual(actual.Shape))
        {
            return $"shape [{string.Join(",", actual.Shape)}], expected [{string.Join(",", expected.Shape)}]";
        }

        if (expected.ElementType == OnnxElementType.String)
        {
            var at = Enumerable.Range(0, expected.Strings!.Length).FirstOrDefault(i => expected.Strings[i] != actual.Strings![i], -1);
            return at < 0 ? null : $"element {at}: \"{actual.Strings![at]}\" vs expected \"{expected.Strings[at]}\"";
        }

        var toDouble = Reader(expected.ElementType);
        if (toDouble is null)
        {
            return expected.Data.AsSpan().SequenceEqual(actual.Data) ? null : "bytes differ";
        }

        var size = OnnxElementTypes.Size(expected.ElementType);
        for (var i = 0; i < expected.Data.Length; i += size)
        {
            var e = toDouble(expected.Data.AsSpan(i));
            var a = toDouble(actual.Data.AsSpan(i));
            if (double.IsNaN(e) && double.IsNaN(a))
            {
                continue;
            }

            if (double.IsInfinity(e) || double.IsInfinity(a) ? e != a : Math.Abs(a - e) > AbsoluteTolerance + RelativeTolerance * Math.Abs(e))
            {
                return $"element {i / size}: {a} vs expected {e}";
            }
        }

        return null;
    }

    private static Func<ReadOnlySpan<byte>, double>? Reader(OnnxElementType type) => type switch
    {
        OnnxElementType.Float or OnnxElementType.Complex64 => b => BinaryPrimitives.ReadSingleLittleEndian(b),
        OnnxElementType.Double or OnnxElementType.Complex128 => b => BinaryPrimitives.ReadDoubleLittleEndian(b),
        OnnxElementType.Float16 => b => (double)BinaryPrimitives.ReadHalfLittleEndian(b),
        OnnxElementType.BFloat16 => b => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(b) << 16),
        _ => null,
    };
}
