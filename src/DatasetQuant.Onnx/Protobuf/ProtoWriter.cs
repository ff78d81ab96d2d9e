using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace DatasetQuant.Onnx.Protobuf;

/// <summary>
/// The slice of the protobuf wire format ONNX files use: varints, fixed32, length-delimited fields and packed arrays.
/// Nested messages are written to their own writer first, since their length prefix comes before them.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(256);

    public int Length => _buffer.WrittenCount;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.WrittenSpan;

    public void Varint(int field, long value)
    {
        Tag(field, ProtoWireType.Varint);
        RawVarint((ulong)value);
    }

    public void VarintIfNonZero(int field, long value)
    {
        if (value != 0)
        {
            Varint(field, value);
        }
    }

    public void Float(int field, float value)
    {
        Tag(field, ProtoWireType.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), value);
        _buffer.Advance(4);
    }

    public void String(int field, string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return;
        }

        Bytes(field, Encoding.UTF8.GetBytes(value));
    }

    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, ProtoWireType.LengthDelimited);
        RawVarint((ulong)value.Length);
        _buffer.Write(value);
    }

    public void Message(int field, ProtoWriter nested) => Bytes(field, nested.WrittenSpan);

    public void PackedVarints(int field, ReadOnlySpan<long> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        var nested = new ProtoWriter();
        foreach (var v in values)
        {
            nested.RawVarint((ulong)v);
        }

        Message(field, nested);
    }

    public void PackedFloats(int field, ReadOnlySpan<float> values)
    {
        if (values.IsEmpty)
        {
            return;
        }

        Tag(field, ProtoWireType.LengthDelimited);
        RawVarint((ulong)values.Length * 4);
        if (BitConverter.IsLittleEndian)
        {
            _buffer.Write(MemoryMarshal.AsBytes(values));
            return;
        }

        foreach (var v in values)
        {
            BinaryPrimitives.WriteSingleLittleEndian(_buffer.GetSpan(4), v);
            _buffer.Advance(4);
        }
    }

    private void Tag(int field, ProtoWireType type) => RawVarint(((ulong)field << 3) | (ulong)type);

    private void RawVarint(ulong value)
    {
        var span = _buffer.GetSpan(10);
        var i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[i++] = (byte)value;
        _buffer.Advance(i);
    }
}

internal enum ProtoWireType
{
    Varint = 0,
    Fixed64 = 1,
    LengthDelimited = 2,
    StartGroup = 3,
    EndGroup = 4,
    Fixed32 = 5,
}
