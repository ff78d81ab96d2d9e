namespace DatasetQuant.Testing;

/// <summary>
/// MQTT's variable byte integer (MQTT 5.0 §1.5.5), for test peers that put packets on the wire themselves: 7 bits per
/// byte, least significant first, the high bit set on every byte but the last, at most 4 bytes.
/// </summary>
public static class MqttVariableByteInteger
{
    private const int MaxBytes = 4;

    public static int Length(int value) => value < 128 ? 1 : value < 16384 ? 2 : value < 2097152 ? 3 : 4;

    /// <summary>Writes <paramref name="value"/> at the start of <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Write(Span<byte> destination, int value)
    {
        var i = 0;
        do
        {
            var digit = (byte)(value % 128);
            value /= 128;
            destination[i++] = value > 0 ? (byte)(digit | 0x80) : digit;
        }
        while (value > 0);
        return i;
    }

    /// <summary>The value at the start of <paramref name="data"/> and the bytes it takes.</summary>
    public static (int Value, int Bytes) Read(ReadOnlySpan<byte> data)
    {
        var value = 0;
        for (var i = 0; i < MaxBytes; i++)
        {
            value |= (data[i] & 0x7F) << (7 * i);
            if ((data[i] & 0x80) == 0)
            {
                return (value, i + 1);
            }
        }

        throw new InvalidDataException($"variable byte integer longer than {MaxBytes} bytes");
    }

    /// <summary>Reads one value from <paramref name="stream"/>, a byte at a time (a packet's remaining length).</summary>
    public static async Task<int> ReadAsync(Stream stream, CancellationToken cancellationToken = default)
    {
        var digit = new byte[1];
        var value = 0;
        for (var i = 0; i < MaxBytes; i++)
        {
            await stream.ReadExactlyAsync(digit, cancellationToken);
            value |= (digit[0] & 0x7F) << (7 * i);
            if ((digit[0] & 0x80) == 0)
            {
                return value;
            }
        }

        throw new InvalidDataException($"variable byte integer longer than {MaxBytes} bytes");
    }
}
