namespace DatasetQuant.Sync.Chunks;

/// <summary>
/// One bit per chunk of a shard, LSB first within each byte (bit i is <c>bytes[i / 8] &amp; (1 &lt;&lt; (i % 8))</c>).
/// On the wire (<see cref="ToWire"/>): base64 of the bytes with trailing zero bytes dropped, so an empty bitmap is "".
/// </summary>
public sealed class ChunkBitmap
{
    private readonly byte[] _bits;

    public ChunkBitmap(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        Count = count;
        _bits = new byte[(count + 7) / 8];
    }

    private ChunkBitmap(int count, byte[] bits)
    {
        Count = count;
        _bits = bits;
    }

    public int Count { get; }

    public int SetCount { get; private set; }

    public bool IsFull => SetCount == Count;

    /// <summary>The raw bytes (length <c>ceil(Count / 8)</c>), for persisting.</summary>
    public ReadOnlySpan<byte> Bytes => _bits;

    public bool this[int index] => (_bits[index >> 3] & (1 << (index & 7))) != 0;

    /// <summary>Sets bit <paramref name="index"/>; false when it was already set.</summary>
    public bool Set(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        ref var b = ref _bits[index >> 3];
        var mask = (byte)(1 << (index & 7));
        if ((b & mask) != 0)
        {
            return false;
        }

        b |= mask;
        SetCount++;
        return true;
    }

    /// <summary>Clears bit <paramref name="index"/>; false when it was already clear.</summary>
    public bool Clear(int index)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)index, (uint)Count, nameof(index));
        ref var b = ref _bits[index >> 3];
        var mask = (byte)(1 << (index & 7));
        if ((b & mask) == 0)
        {
            return false;
        }

        b &= (byte)~mask;
        SetCount--;
        return true;
    }

    public static ChunkBitmap AllSet(int count)
    {
        var bitmap = new ChunkBitmap(count);
        for (var i = 0; i < count; i++)
        {
            bitmap.Set(i);
        }

        return bitmap;
    }

    /// <summary>The complement: the chunks not yet set.</summary>
    public ChunkBitmap Invert()
    {
        var inverse = new ChunkBitmap(Count);
        for (var i = 0; i < Count; i++)
        {
            if (!this[i])
            {
                inverse.Set(i);
            }
        }

        return inverse;
    }

    public static ChunkBitmap FromBytes(int count, ReadOnlySpan<byte> bytes)
    {
        var bitmap = new ChunkBitmap(count);
        if (bytes.Length > bitmap._bits.Length)
        {
            throw new ArgumentException($"bitmap of {bytes.Length} bytes is longer than {count} chunks need", nameof(bytes));
        }

        for (var i = 0; i < bytes.Length * 8 && i < count; i++)
        {
            if ((bytes[i >> 3] & (1 << (i & 7))) != 0)
            {
                bitmap.Set(i);
            }
        }

        return bitmap;
    }

    public string ToWire()
    {
        var length = _bits.Length;
        while (length > 0 && _bits[length - 1] == 0)
        {
            length--;
        }

        return Convert.ToBase64String(_bits, 0, length);
    }

    /// <summary>
    /// Parses the wire form for a shard of <paramref name="count"/> chunks. Refuses (false, with the reason) base64 that
    /// does not decode, is longer than the shard needs, or sets bits past the last chunk.
    /// </summary>
    public static bool TryFromWire(string wire, int count, out ChunkBitmap bitmap, out string error)
    {
        bitmap = null!;
        var maxBytes = (count + 7) / 8;
        if (wire.Length > ((maxBytes + 2) / 3 * 4))
        {
            error = $"bitmap of {wire.Length} base64 characters is longer than {count} chunks need";
            return false;
        }

        var bytes = new byte[maxBytes];
        if (!Convert.TryFromBase64String(wire, bytes, out var written))
        {
            error = "bitmap is not valid base64";
            return false;
        }

        var parsed = new ChunkBitmap(count, bytes);
        for (var i = count; i < written * 8; i++)
        {
            if ((bytes[i >> 3] & (1 << (i & 7))) != 0)
            {
                error = $"bitmap sets chunk {i} but the shard has {count} chunks";
                return false;
            }
        }

        var set = 0;
        for (var i = 0; i < count; i++)
        {
            if (parsed[i])
            {
                set++;
            }
        }

        parsed.SetCount = set;
        bitmap = parsed;
        error = "";
        return true;
    }
}
