namespace DatasetQuant.Core.Quantization;

/// <summary>
/// What an allocator decides: a width 0..8 per sample so that Σ <see cref="BytesAt"/>(b_i) ≤ <see cref="BudgetBytes"/>,
/// minimising Σ w_i·D_i(b_i).
/// </summary>
public sealed class AllocationProblem
{
    public AllocationProblem(int count, int pixelsPerSample, long budgetBytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelsPerSample);
        ArgumentOutOfRangeException.ThrowIfNegative(budgetBytes);
        Count = count;
        PixelsPerSample = pixelsPerSample;
        BudgetBytes = budgetBytes;
    }

    public int Count { get; }

    public int PixelsPerSample { get; }

    public long BudgetBytes { get; }

    /// <summary>D[i·9 + b], b = 0..8. Needed by the adaptive allocator; the others ignore it.</summary>
    public ReadOnlyMemory<double> Distortion { get; init; }

    /// <summary>Importance w_i ≥ 0 per sample; empty means every sample weighs 1.</summary>
    public ReadOnlyMemory<double> Importance { get; init; }

    /// <summary>The largest width each sample may get (re-quantization cannot add bits); empty means 8 for all.</summary>
    public ReadOnlyMemory<byte> MaxBits { get; init; }

    /// <summary>
    /// Class of each sample; empty means unlabelled. With labels the adaptive allocator keeps a per-class share of the
    /// samples when it must drop some (<see cref="CoverageSelection"/>).
    /// </summary>
    public ReadOnlyMemory<int> Labels { get; init; }

    /// <summary>
    /// The per-sample score coverage selection spreads the kept samples over (<see cref="DatasetQuantizer"/> gives
    /// <see cref="ClassTypicality"/>); empty means the cost of dropping the sample, w_i·(D_i(0) − D_i(1)).
    /// </summary>
    public ReadOnlyMemory<double> CoverageScore { get; init; }

    /// <summary>
    /// D_i(0) is a drop cost that ranks the samples (<see cref="IDistortionMeasure.DropCostRanksSamples"/>): when the
    /// budget affords every sample at 1 bit, the optimum's own choice of which to drop stands over coverage.
    /// </summary>
    public bool DropCostRanksSamples { get; init; }

    public int Seed { get; init; }

    /// <summary>
    /// Bytes a stored sample costs besides its payload (its index record) when the budget bounds file bytes; 0 when it
    /// bounds the payload alone. A dropped sample costs nothing.
    /// </summary>
    public int RecordBytes { get; init; }

    public int MaxBitsOf(int index) => MaxBits.IsEmpty ? SampleQuantizer.MaxBits : MaxBits.Span[index];

    public double ImportanceOf(int index) => Importance.IsEmpty ? 1.0 : Importance.Span[index];

    public long BytesAt(int bits) => bits == 0 ? 0 : SampleQuantizer.PackedBytes(PixelsPerSample, bits) + RecordBytes;

    /// <summary>Bytes of an allocation that count against the budget (payload, and the records when <see cref="RecordBytes"/> is set).</summary>
    public long TotalBytes(ReadOnlySpan<byte> bits)
    {
        long total = 0;
        foreach (var b in bits)
        {
            total += BytesAt(b);
        }

        return total;
    }
}
