namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// The static model of <see cref="PlaneCoder"/>: per plane and context, the probability of a 0 bit in 1/2048, fitted
/// to a set's own counts. Stored with the set it would take <see cref="StoredBytes"/> (11 bits each), which the
/// experiment charges to the budget.
/// </summary>
public sealed class PlaneProbabilities
{
    private readonly ushort[] _zero;

    private PlaneProbabilities(ushort[] zero) => _zero = zero;

    public static int StoredBytes => ((PlaneCoder.Planes * PlaneCoder.Contexts * BinaryRangeEncoder.ProbabilityBits) + 7) / 8;

    /// <summary>From counts of <see cref="PlaneCoder.Count"/>: (zeros + ½) / (total + 1), kept strictly inside (0, 1).</summary>
    public static PlaneProbabilities Fit(ReadOnlySpan<long> zeros, ReadOnlySpan<long> totals)
    {
        var zero = new ushort[PlaneCoder.Planes * PlaneCoder.Contexts];
        for (var i = 0; i < zero.Length; i++)
        {
            var p = (zeros[i] + 0.5) / (totals[i] + 1.0);
            zero[i] = (ushort)Math.Clamp((int)Math.Round(p * BinaryRangeEncoder.ProbabilityOne), 1, BinaryRangeEncoder.ProbabilityOne - 1);
        }

        return new PlaneProbabilities(zero);
    }

    public int Zero(int bit, int context) => _zero[(bit * PlaneCoder.Contexts) + context];
}
