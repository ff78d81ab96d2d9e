namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// A binary range encoder with 11-bit probabilities, LZMA's (the public-domain LZMA SDK's <c>RangeEncoder</c>): a
/// 32-bit range, carries held back in a cached byte and a run of 0xFF bytes. Kept here rather than taken from a
/// package because .NET has no binary arithmetic coder and the whole coder is these few lines; the decoder is
/// <see cref="BinaryRangeDecoder"/>. The first byte LZMA writes is always 0 and is left out, so a segment is
/// <see cref="Finish"/>'s length: the coded bits plus a byte or two of flush.
/// </summary>
public struct BinaryRangeEncoder
{
    /// <summary>Probabilities are of a 0 bit, in units of 1/<see cref="ProbabilityOne"/>, strictly inside (0, 1).</summary>
    public const int ProbabilityBits = 11;

    public const int ProbabilityOne = 1 << ProbabilityBits;

    private const uint TopValue = 1u << 24;

    private readonly byte[] _output;
    private ulong _low;
    private uint _range;
    private byte _cache;
    private long _cacheSize;
    private int _written;

    /// <summary>An encoder writing into <paramref name="output"/>, which must hold the segment (a bound: coded bits / 8 + 16).</summary>
    public BinaryRangeEncoder(byte[] output)
    {
        _output = output;
        _range = uint.MaxValue;
        _cacheSize = 1;
        _written = -1;
    }

    /// <summary>Codes <paramref name="bit"/> with probability <paramref name="zeroProbability"/> / 2048 of a 0.</summary>
    public void Encode(int bit, int zeroProbability)
    {
        var bound = (_range >> ProbabilityBits) * (uint)zeroProbability;
        if (bit == 0)
        {
            _range = bound;
        }
        else
        {
            _low += bound;
            _range -= bound;
        }

        while (_range < TopValue)
        {
            _range <<= 8;
            ShiftLow();
        }
    }

    /// <summary>
    /// Flushes the coder and returns the segment's length. A copy of the encoder may be finished to learn what a shorter
    /// segment would take: bytes still pending sit in the cache, so the copy writes only past what the original has
    /// written, which the original then overwrites.
    /// </summary>
    public int Finish()
    {
        // Any value in [low, low + range) decodes every bit coded; LZMA writes low itself (4 bytes). The value in it
        // with the most trailing zero bytes is as good, and a decoder reads zeros past the end, so those bytes need not
        // be written: the flush takes 1–2 bytes instead of 4.
        for (var shift = 24; shift >= 0; shift -= 8)
        {
            var mask = (1UL << shift) - 1;
            var rounded = (_low + mask) & ~mask;
            if (rounded < _low + _range)
            {
                _low = rounded;
                break;
            }
        }

        for (var i = 0; i < 5; i++)
        {
            ShiftLow();
        }

        while (_written > 0 && _output[_written - 1] == 0)
        {
            _written--;
        }

        return _written;
    }

    private void ShiftLow()
    {
        if ((uint)_low < 0xFF000000u || (_low >> 32) != 0)
        {
            var carry = (byte)(_low >> 32);
            var temp = _cache;
            do
            {
                Write((byte)(temp + carry));
                temp = 0xFF;
            }
            while (--_cacheSize != 0);
            _cache = (byte)((uint)_low >> 24);
        }

        _cacheSize++;
        _low = (uint)_low << 8;
    }

    private void Write(byte value)
    {
        // The first byte is the initial cache, always 0: not written.
        if (_written >= 0)
        {
            _output[_written] = value;
        }

        _written++;
    }
}
