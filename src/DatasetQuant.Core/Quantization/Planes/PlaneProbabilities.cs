using System.Buffers.Binary;

namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// The static model of <see cref="PlaneCoder"/>: per plane and context, the probability of a 0 bit in 1/2048, fitted
/// to a set's own counts. A planes shard stores it in its index (docs/format.md §14) as <see cref="Count"/> u16 values,
/// entry bit·48 + context (bit 0 the least significant plane), each 1..2047.
/// </summary>
public sealed class PlaneProbabilities
{
    private readonly ushort[] _zero;

    private PlaneProbabilities(ushort[] zero) => _zero = zero;

    /// <summary>Entries of the table: 8 planes × 48 contexts.</summary>
    public const int Count = PlaneCoder.Planes * PlaneCoder.Contexts;

    /// <summary>Bytes of the table in a shard's index.</summary>
    public const int StoredBytes = Count * sizeof(ushort);

    /// <summary>From counts of <see cref="PlaneCoder.Count"/>: (zeros + ½) / (total + 1), kept strictly inside (0, 1).</summary>
    public static PlaneProbabilities Fit(ReadOnlySpan<long> zeros, ReadOnlySpan<long> totals)
    {
        var zero = new ushort[Count];
        for (var i = 0; i < zero.Length; i++)
        {
            var p = (zeros[i] + 0.5) / (totals[i] + 1.0);
            zero[i] = (ushort)Math.Clamp((int)Math.Round(p * BinaryRangeEncoder.ProbabilityOne), 1, BinaryRangeEncoder.ProbabilityOne - 1);
        }

        return new PlaneProbabilities(zero);
    }

    /// <summary>The stored table; null with the first bad entry's position when one is outside 1..2047.</summary>
    public static PlaneProbabilities? Read(ReadOnlySpan<byte> stored, out int badEntry)
    {
        var zero = new ushort[Count];
        for (var i = 0; i < zero.Length; i++)
        {
            zero[i] = BinaryPrimitives.ReadUInt16LittleEndian(stored[(2 * i)..]);
            if (zero[i] is 0 or >= BinaryRangeEncoder.ProbabilityOne)
            {
                badEntry = i;
                return null;
            }
        }

        badEntry = -1;
        return new PlaneProbabilities(zero);
    }

    public void Write(Span<byte> destination)
    {
        for (var i = 0; i < _zero.Length; i++)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination[(2 * i)..], _zero[i]);
        }
    }

    public int Zero(int bit, int context) => _zero[(bit * PlaneCoder.Contexts) + context];
}
