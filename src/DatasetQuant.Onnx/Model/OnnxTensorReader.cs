using System.Buffers.Binary;
using DatasetQuant.Onnx.Protobuf;
using F = DatasetQuant.Onnx.Model.OnnxProtoFields;

namespace DatasetQuant.Onnx.Model;

/// <summary>
/// Reads a TensorProto (an initializer, or a test's input_N.pb/output_N.pb) into an <see cref="OnnxTensor"/>,
/// from raw_data or from whichever typed field the writer chose. The element count implied by the dims must match
/// the data present, which bounds every allocation by the input's size.
/// </summary>
public static class OnnxTensorReader
{
    public static OnnxTensor ReadFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Tensor file '{path}' does not exist.", path);
        }

        return Read(File.ReadAllBytes(path), path);
    }

    public static OnnxTensor Read(ReadOnlySpan<byte> data, string source = "(tensor)")
    {
        var r = new ProtoReader(data, source, "TensorProto");
        return ReadTensor(ref r);
    }

    internal static OnnxTensor ReadTensor(ref ProtoReader r)
    {
        List<long> dims = [];
        var elementType = OnnxElementType.Undefined;
        var name = string.Empty;
        ReadOnlySpan<byte> raw = default;
        var hasRaw = false;
        List<float> floats = [];
        List<long> varints = [];
        List<double> doubles = [];
        List<string> strings = [];
        long location = 0;
        while (r.Next(out var field, out var type))
        {
            switch (field)
            {
                case F.Tensor.Dims:
                    r.ReadVarints(type, dims);
                    break;
                case F.Tensor.DataType when type == ProtoWireType.Varint:
                    elementType = (OnnxElementType)r.ReadInt64();
                    break;
                case F.Tensor.Name when type == ProtoWireType.LengthDelimited:
                    name = r.ReadString();
                    break;
                case F.Tensor.RawData when type == ProtoWireType.LengthDelimited:
                    raw = r.ReadBytes();
                    hasRaw = true;
                    break;
                case F.Tensor.FloatData:
                    ReadFloats(ref r, type, floats);
                    break;
                case F.Tensor.Int32Data or F.Tensor.Int64Data or F.Tensor.UInt64Data:
                    r.ReadVarints(type, varints);
                    break;
                case F.Tensor.DoubleData:
                    ReadDoubles(ref r, type, doubles);
                    break;
                case F.Tensor.StringData when type == ProtoWireType.LengthDelimited:
                    strings.Add(r.ReadString());
                    break;
                case F.Tensor.DataLocation when type == ProtoWireType.Varint:
                    location = r.ReadInt64();
                    break;
                case F.Tensor.Segment:
                    r.Fail($"tensor '{name}' is segmented, which DatasetQuant does not read");
                    break;
                default:
                    r.Skip(type);
                    break;
            }
        }

        if (location != 0)
        {
            r.Fail($"tensor '{name}' keeps its data in an external file, which DatasetQuant does not read");
        }

        var shape = dims.ToArray();
        if (shape.Any(d => d < 0))
        {
            r.Fail($"tensor '{name}' has a negative dimension [{string.Join(",", shape)}]");
        }

        long count;
        try
        {
            count = OnnxTensor.ElementCountOf(shape);
        }
        catch (OverflowException)
        {
            r.Fail($"tensor '{name}' dimensions [{string.Join(",", shape)}] overflow");
            throw;
        }

        if (elementType == OnnxElementType.String)
        {
            if (strings.Count != count)
            {
                r.Fail($"string tensor '{name}' has {strings.Count} strings for shape [{string.Join(",", shape)}]");
            }

            return new OnnxTensor(name, shape, [.. strings]);
        }

        var size = OnnxElementTypes.Size(elementType);
        if (size == 0)
        {
            r.Fail($"tensor '{name}' has unknown data_type {(int)elementType}");
        }

        var byteLength = OnnxElementTypes.ByteLength(elementType, count);
        if (hasRaw)
        {
            if (raw.Length != byteLength)
            {
                r.Fail($"tensor '{name}' of {elementType}[{string.Join(",", shape)}] needs {byteLength} bytes of raw_data, has {raw.Length}");
            }

            return new OnnxTensor(name, elementType, shape, raw.ToArray());
        }

        return new OnnxTensor(name, elementType, shape, FromTypedFields(ref r, name, elementType, count, byteLength, floats, varints, doubles));
    }

    private static byte[] FromTypedFields(ref ProtoReader r, string name, OnnxElementType type, long count, long byteLength,
        List<float> floats, List<long> varints, List<double> doubles)
    {
        // Complex types store two scalars per element; 4-bit types store one packed byte per int32_data entry.
        var (valuesPresent, valuesNeeded) = type switch
        {
            OnnxElementType.Float => (floats.Count, count),
            OnnxElementType.Complex64 => (floats.Count, count * 2),
            OnnxElementType.Double => (doubles.Count, count),
            OnnxElementType.Complex128 => (doubles.Count, count * 2),
            OnnxElementType.UInt4 or OnnxElementType.Int4 or OnnxElementType.Float4E2M1 => (varints.Count, byteLength),
            _ => (varints.Count, count),
        };
        if (valuesPresent != valuesNeeded)
        {
            r.Fail($"tensor '{name}' of {type} with {count} elements carries {valuesPresent} values");
        }

        var bytes = new byte[byteLength];
        var span = bytes.AsSpan();
        switch (type)
        {
            case OnnxElementType.Float or OnnxElementType.Complex64:
                for (var i = 0; i < floats.Count; i++)
                {
                    BinaryPrimitives.WriteSingleLittleEndian(span[(i * 4)..], floats[i]);
                }

                break;
            case OnnxElementType.Double or OnnxElementType.Complex128:
                for (var i = 0; i < doubles.Count; i++)
                {
                    BinaryPrimitives.WriteDoubleLittleEndian(span[(i * 8)..], doubles[i]);
                }

                break;
            default:
                var width = (int)(byteLength / Math.Max(1, varints.Count));
                for (var i = 0; i < varints.Count; i++)
                {
                    var v = varints[i];
                    switch (width)
                    {
                        case 1:
                            span[i] = (byte)v;
                            break;
                        case 2:
                            BinaryPrimitives.WriteUInt16LittleEndian(span[(i * 2)..], (ushort)v);
                            break;
                        case 4:
                            BinaryPrimitives.WriteUInt32LittleEndian(span[(i * 4)..], (uint)v);
                            break;
                        default:
                            BinaryPrimitives.WriteInt64LittleEndian(span[(i * 8)..], v);
                            break;
                    }
                }

                break;
        }

        return bytes;
    }

    internal static void ReadFloats(ref ProtoReader r, ProtoWireType type, List<float> into)
    {
        if (type == ProtoWireType.Fixed32)
        {
            into.Add(r.ReadFloat());
            return;
        }

        r.Expect(type, ProtoWireType.LengthDelimited);
        var packed = r.ReadBytes();
        if (packed.Length % 4 != 0)
        {
            r.Fail($"packed float field of {packed.Length} bytes is not a multiple of 4");
        }

        for (var i = 0; i < packed.Length; i += 4)
        {
            into.Add(BinaryPrimitives.ReadSingleLittleEndian(packed[i..]));
        }
    }

    private static void ReadDoubles(ref ProtoReader r, ProtoWireType type, List<double> into)
    {
        if (type == ProtoWireType.Fixed64)
        {
            into.Add(BitConverter.UInt64BitsToDouble(r.ReadFixed64()));
            return;
        }

        r.Expect(type, ProtoWireType.LengthDelimited);
        var packed = r.ReadBytes();
        if (packed.Length % 8 != 0)
        {
            r.Fail($"packed double field of {packed.Length} bytes is not a multiple of 8");
        }

        for (var i = 0; i < packed.Length; i += 8)
        {
            into.Add(BinaryPrimitives.ReadDoubleLittleEndian(packed[i..]));
        }
    }
}
