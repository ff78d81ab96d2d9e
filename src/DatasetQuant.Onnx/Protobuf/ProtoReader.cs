using System.Buffers.Binary;
using System.Text;

namespace DatasetQuant.Onnx.Protobuf;

/// <summary>
/// Reads protobuf fields from a span. Every length is checked against what is left of the span before it is used,
/// so a truncated or corrupt file ends in <see cref="OnnxFormatException"/> naming the source and the message,
/// never in an over-read or an allocation larger than the input.
/// </summary>
internal ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _data;
    private readonly string _source;
    private readonly string _message;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, string source, string message)
    {
        _data = data;
        _source = source;
        _message = message;
        _position = 0;
    }

    public readonly string Source => _source;

    public bool Next(out int field, out ProtoWireType type)
    {
        if (_position >= _data.Length)
        {
            field = 0;
            type = 0;
            return false;
        }

        var tag = ReadRawVarint();
        field = (int)(tag >> 3);
        type = (ProtoWireType)(tag & 7);
        if (field <= 0)
        {
            Fail($"invalid field number {field}");
        }

        return true;
    }

    public ulong ReadVarint() => ReadRawVarint();

    public long ReadInt64() => (long)ReadRawVarint();

    public float ReadFloat()
    {
        Need(4);
        var v = BinaryPrimitives.ReadSingleLittleEndian(_data[_position..]);
        _position += 4;
        return v;
    }

    public ulong ReadFixed64()
    {
        Need(8);
        var v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return v;
    }

    public ReadOnlySpan<byte> ReadBytes()
    {
        var length = ReadRawVarint();
        if (length > (ulong)(_data.Length - _position))
        {
            Fail($"a field claims {length} bytes but only {_data.Length - _position} remain (truncated file?)");
        }

        var span = _data.Slice(_position, (int)length);
        _position += (int)length;
        return span;
    }

    public string ReadString() => Encoding.UTF8.GetString(ReadBytes());

    public ProtoReader ReadMessage(string name) => new(ReadBytes(), _source, name);

    public void Skip(ProtoWireType type)
    {
        switch (type)
        {
            case ProtoWireType.Varint:
                ReadRawVarint();
                break;
            case ProtoWireType.Fixed64:
                Need(8);
                _position += 8;
                break;
            case ProtoWireType.LengthDelimited:
                ReadBytes();
                break;
            case ProtoWireType.Fixed32:
                Need(4);
                _position += 4;
                break;
            default:
                Fail($"unsupported wire type {(int)type}");
                break;
        }
    }

    /// <summary>Appends a repeated varint field's value(s), packed or not, to <paramref name="into"/>.</summary>
    public void ReadVarints(ProtoWireType type, List<long> into)
    {
        if (type == ProtoWireType.Varint)
        {
            into.Add(ReadInt64());
            return;
        }

        Expect(type, ProtoWireType.LengthDelimited);
        var packed = new ProtoReader(ReadBytes(), _source, _message);
        while (packed._position < packed._data.Length)
        {
            into.Add(packed.ReadInt64());
        }
    }

    public void Expect(ProtoWireType actual, ProtoWireType expected)
    {
        if (actual != expected)
        {
            Fail($"wire type {actual} where {expected} was expected");
        }
    }

    public readonly void Fail(string what) =>
        throw new OnnxFormatException($"{_source}: corrupt {_message}: {what} (at byte {_position} of {_data.Length}).");

    private ulong ReadRawVarint()
    {
        ulong result = 0;
        for (var shift = 0; shift < 70; shift += 7)
        {
            Need(1);
            var b = _data[_position++];
            result |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return result;
            }
        }

        Fail("varint longer than 10 bytes");
        return 0;
    }

    private readonly void Need(int bytes)
    {
        if (_data.Length - _position < bytes)
        {
            Fail($"needs {bytes} more bytes but the message ends (truncated file?)");
        }
    }
}
