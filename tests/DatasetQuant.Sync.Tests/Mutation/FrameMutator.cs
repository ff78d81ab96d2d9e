using System.Buffers.Binary;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Seeded mutations of a chunk frame (docs/protocol.md §4): bit flips, truncation and extension, each header field set
/// to values at and past its range (counts at 0 and at their maximum, lengths and offsets that lie), the name made
/// invalid, the payload resized. Most mutants get their CRCs recomputed afterwards, as a peer that means harm would do,
/// so they reach the checks behind the CRCs.
/// </summary>
internal sealed class FrameMutator(Random random)
{
    private static readonly (string Name, int Offset, int Size)[] Fields =
    [
        ("magic", 0, 4), ("frameVersion", 4, 1), ("flags", 5, 1), ("nameLength", 6, 1), ("reserved", 7, 1), ("manifestVersion", 8, 8),
        ("shardId", 16, 4), ("payloadLength", 20, 4), ("offset", 24, 8), ("payloadCrc", 32, 4), ("headerCrc", 36, 4),
    ];

    private static readonly long[] Values =
    [
        0, 1, -1, 2, 63, 64, 65, 255, 256, 1023, 1024, 1025, 4096, 16384, 16385, 131071, 131072, 131073, int.MaxValue, int.MinValue,
        uint.MaxValue, long.MaxValue, long.MinValue, 1L << 36, (1L << 36) + 1, 1L << 40,
    ];

    public (byte[] Bytes, string Description) Mutate(byte[] frame)
    {
        var count = random.Next(1, 3);
        var descriptions = new List<string>(count);
        for (var i = 0; i < count; i++)
        {
            var (next, description) = MutateOnce(frame);
            frame = next;
            descriptions.Add(description);
        }

        if (random.Next(4) != 0)
        {
            FixCrcs(frame);
            descriptions.Add("CRCs recomputed");
        }

        return (frame, string.Join("; then ", descriptions));
    }

    /// <summary>Recomputes both CRCs over what the header says (where the frame is long enough for that to mean anything).</summary>
    public static void FixCrcs(byte[] frame)
    {
        if (frame.Length < ChunkFrameConstants.FixedHeaderSize)
        {
            return;
        }

        int nameLength = frame[6];
        var payloadLength = BinaryPrimitives.ReadInt32LittleEndian(frame.AsSpan(20));
        var payloadAt = ChunkFrameConstants.FixedHeaderSize + nameLength;
        if (payloadLength >= 0 && payloadAt + (long)payloadLength <= frame.Length)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(32), Crc32C.Compute(frame.AsSpan(payloadAt, payloadLength)));
        }

        if (payloadAt <= frame.Length)
        {
            var crc = Crc32C.Append(Crc32C.Compute(frame.AsSpan(0, 36)), frame.AsSpan(ChunkFrameConstants.FixedHeaderSize, nameLength));
            BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(36), crc);
        }
    }

    private (byte[] Bytes, string Description) MutateOnce(byte[] frame)
    {
        var copy = frame.ToArray();
        switch (random.Next(7))
        {
            case 0:
            {
                if (copy.Length == 0)
                {
                    return (copy, "empty");
                }

                var bit = random.Next(copy.Length * 8);
                copy[bit / 8] ^= (byte)(1 << (bit % 8));
                return (copy, $"bit {bit} flipped");
            }

            case 1:
            {
                var length = random.Next(copy.Length + 1);
                return (copy[..length], $"truncated to {length}");
            }

            case 2:
            {
                var extra = new byte[Pick([1, 7, 40, 1024, 200_000])];
                random.NextBytes(extra);
                return ([.. copy, .. extra], $"{extra.Length} bytes appended");
            }

            case 3:
            {
                var payloadAt = ChunkFrameConstants.FixedHeaderSize + (copy.Length > 6 ? copy[6] : 0);
                var payload = new byte[Pick([0, 1, 100, 1023, 1024, 16384, 131072, 131073])];
                random.NextBytes(payload);
                var resized = (byte[])[.. copy.AsSpan(0, Math.Min(payloadAt, copy.Length)), .. payload];
                if (resized.Length >= 24)
                {
                    BinaryPrimitives.WriteInt32LittleEndian(resized.AsSpan(20), payload.Length);
                }

                return (resized, $"payload of {payload.Length} bytes");
            }

            case 4 when copy.Length > ChunkFrameConstants.FixedHeaderSize:
            {
                var at = ChunkFrameConstants.FixedHeaderSize + random.Next(Math.Min(copy.Length - ChunkFrameConstants.FixedHeaderSize, Math.Max(1, (int)copy[6])));
                copy[at] = Pick<byte>([(byte)'/', (byte)'+', (byte)'#', 0, 0xFF, (byte)'.', (byte)' ']);
                return (copy, $"name byte {at} set to 0x{copy[at]:X2}");
            }

            default:
            {
                var (name, offset, size) = Fields[random.Next(Fields.Length)];
                if (copy.Length < offset + size)
                {
                    return (copy, $"{name} beyond the end");
                }

                var value = Pick(Values);
                switch (size)
                {
                    case 1:
                        copy[offset] = (byte)value;
                        break;
                    case 4:
                        BinaryPrimitives.WriteInt32LittleEndian(copy.AsSpan(offset), (int)value);
                        break;
                    default:
                        BinaryPrimitives.WriteInt64LittleEndian(copy.AsSpan(offset), value);
                        break;
                }

                return (copy, $"{name} set to {value}");
            }
        }
    }

    private T Pick<T>(T[] choices) => choices[random.Next(choices.Length)];
}
