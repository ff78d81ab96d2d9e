using System.Buffers.Binary;

namespace DatasetQuant.Testing;

/// <summary>A damaged copy of a valid file, and what was done to it (for the failure message).</summary>
public sealed record Mutant(int Number, byte[] Bytes, string Description, bool Resealed);

/// <summary>
/// Deterministic damage for format readers: from a valid file, one to three edits (a flipped bit, a byte set to 0x00,
/// 0xFF or a random value, bytes inserted or deleted, a u16 or u32 overwritten with 0, 1, its maximum, a large value or
/// its old value ± 1, a truncation), aimed with equal odds at each of the caller's <c>hotPrefixes</c> (such as the header,
/// then the header and index: where the counts and offsets live) and at the whole file. Every other mutant then has
/// its checksums recomputed by the caller's <c>reseal</c>, so that the reader's field checks, not only its checksums,
/// must catch the damage.
/// </summary>
public static class ByteMutations
{
    /// <summary>Mutant <paramref name="number"/> of the series <paramref name="random"/> draws.</summary>
    public static Mutant Make(Random random, int number, byte[] original, IReadOnlyList<int> hotPrefixes, Func<byte[], byte[]> reseal)
    {
        var bytes = original.ToList();
        var edits = new List<string>();
        for (var e = random.Next(1, 4); e > 0; e--)
        {
            var region = random.Next(hotPrefixes.Count + 1);
            edits.Add(Edit(random, bytes, region < hotPrefixes.Count ? Math.Min(hotPrefixes[region], bytes.Count) : bytes.Count));
        }

        var resealed = number % 2 == 0;
        var result = bytes.ToArray();
        return new Mutant(number, resealed ? reseal(result) : result, string.Join("; ", edits), resealed);
    }

    /// <summary>The series of <paramref name="count"/> mutants of <paramref name="original"/> from <paramref name="seed"/>.</summary>
    public static IEnumerable<Mutant> Series(int seed, int count, byte[] original, IReadOnlyList<int> hotPrefixes, Func<byte[], byte[]> reseal)
    {
        var random = new Random(seed);
        for (var k = 0; k < count; k++)
        {
            yield return Make(random, k, original, hotPrefixes, reseal);
        }
    }

    /// <summary>One edit at a position below <paramref name="within"/> (a truncation anywhere).</summary>
    private static string Edit(Random random, List<byte> bytes, int within)
    {
        if (bytes.Count == 0 || within == 0)
        {
            return "nothing left to edit";
        }

        var at = random.Next(within);
        switch (random.Next(8))
        {
            case 0:
                var bit = random.Next(8);
                bytes[at] ^= (byte)(1 << bit);
                return $"bit {bit} of byte {at} flipped";
            case 1:
                var value = random.Next(3) switch { 0 => (byte)0x00, 1 => (byte)0xFF, _ => (byte)random.Next(256) };
                bytes[at] = value;
                return $"byte {at} set to 0x{value:X2}";
            case 2:
                var length = random.Next(bytes.Count);
                bytes.RemoveRange(length, bytes.Count - length);
                return $"truncated to {length} bytes";
            case 3:
                var inserted = new byte[random.Next(1, 9)];
                random.NextBytes(inserted);
                bytes.InsertRange(at, inserted);
                return $"{inserted.Length} bytes inserted at {at}";
            case 4:
                var deleted = Math.Min(random.Next(1, 9), bytes.Count - at);
                bytes.RemoveRange(at, deleted);
                return $"{deleted} bytes deleted at {at}";
            case 5:
                return Field(random, bytes, at, 2);
            default:
                return Field(random, bytes, at, 4);
        }
    }

    /// <summary>Overwrites the u16 or u32 at <paramref name="at"/> (moved back to fit) with a value a lying count or offset takes.</summary>
    private static string Field(Random random, List<byte> bytes, int at, int size)
    {
        if (bytes.Count < size)
        {
            return "no room for a field";
        }

        at = Math.Min(at, bytes.Count - size);
        Span<byte> field = stackalloc byte[size];
        for (var b = 0; b < size; b++)
        {
            field[b] = bytes[at + b];
        }

        ulong old = size == 2 ? BinaryPrimitives.ReadUInt16LittleEndian(field) : BinaryPrimitives.ReadUInt32LittleEndian(field);
        var max = size == 2 ? ushort.MaxValue : uint.MaxValue;
        var value = random.Next(8) switch
        {
            0 => 0UL,
            1 => 1UL,
            2 => max,
            3 => max / 2,
            4 => (max / 2) + 1,
            5 => (old + 1) & max,
            6 => (old - 1) & max,
            _ => size == 2 ? (ulong)random.Next(4097, 65536) : (ulong)random.NextInt64(1L << 20, 1L << 32),
        };
        if (size == 2)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(field, (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(field, (uint)value);
        }

        for (var b = 0; b < size; b++)
        {
            bytes[at + b] = field[b];
        }

        return $"u{size * 8} at {at} set from {old} to {value}";
    }
}
