namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// Decodes what <see cref="BinaryRangeEncoder"/> wrote. Reading past the segment's end reads zeros, so a short or
/// damaged segment decodes to some bits in bounded time and never reads outside it; whether the bits are right is for
/// a checksum to say.
/// </summary>
public ref struct BinaryRangeDecoder
{
    private const uint TopValue = 1u << 24;

    private readonly ReadOnlySpan<byte> _input;
    private int _position;
    private uint _range;
    private uint _code;

    public BinaryRangeDecoder(ReadOnlySpan<byte> input)
    {
        _input = input;
        _range = uint.MaxValue;
        for (var i = 0; i < 4; i++)
        {
            _code = (_code << 8) | NextByte();
        }
    }

    public int Decode(int zeroProbability)
    {
        var bound = (_range >> BinaryRangeEncoder.ProbabilityBits) * (uint)zeroProbability;
        int bit;
        if (_code < bound)
        {
            _range = bound;
            bit = 0;
        }
        else
        {
            _code -= bound;
            _range -= bound;
            bit = 1;
        }

        while (_range < TopValue)
        {
            _range <<= 8;
            _code = (_code << 8) | NextByte();
        }

        return bit;
    }

    private uint NextByte() => _position < _input.Length ? _input[_position++] : 0u;
}
