namespace DatasetQuant.Core.Quantization;

/// <summary>
/// What an allocator decides: a width 0..8 per sample so that Σ <see cref="BytesAt"/>(i, b_i) ≤ <see cref="BudgetBytes"/>,
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

    /// <summary>
    /// D'[i·9 + b]: what the adaptive allocator spends on once <see cref="Distortion"/> gains nothing more within the
    /// budget (the pixel MSE, for a measure such as a confident reference model's, whose KL stops falling after a bit or
    /// two while the budget would hold more). Empty: what the measure leaves unspent stays unspent.
    /// </summary>
    public ReadOnlyMemory<double> FallbackDistortion { get; init; }

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
    /// budget affords every sample at 1 bit and <see cref="DropCostTrusted"/>, the optimum's own choice of which to drop
    /// stands over coverage.
    /// </summary>
    public bool DropCostRanksSamples { get; init; }

    /// <summary>
    /// The drop cost above which the measure says its reference has learnt nothing about a sample
    /// (<see cref="IDistortionMeasure.ChanceDropCost"/>: ln K for a cross-entropy); such samples do not count in
    /// <see cref="CoarseToDropRatio"/>. Infinite, the default, counts every sample.
    /// </summary>
    public double ChanceDropCost { get; init; } = double.PositiveInfinity;

    /// <summary>
    /// The largest <see cref="CoarseToDropRatio"/> at which a ranking drop cost is trusted: on average a drop must cost
    /// at least twice a 1-bit copy. A reference model trained on the data it prices (as the budget sweep trains it)
    /// gives a drop a cost well above a coarse copy's on 1,000–60,000 Fashion-MNIST images (0.32–0.48); on a ~1,300-image
    /// set it has memorised, every sample's loss is near zero and a drop costs about what a 1-bit copy does or less
    /// (0.97–1.92), on 2,000 colour images 53, on 1,000–8,000 synthetic 16×16 images 0.78–8.2, and a reference trained on
    /// another ~1,300-image set prices them at 0.59–1.37. The threshold, set before the samples past chance were left out,
    /// still sits in the gap (0.48 below it, 0.59 above). It detects memorisation, not every small set: a reference that
    /// has not memorised its samples prices drops high on small sets too (<see cref="TrustedSamplesPerValue"/>).
    /// </summary>
    public const double TrustedCoarseToDropRatio = 0.5;

    /// <summary>
    /// R = Σ w_i·D_i(1) / Σ w_i·D_i(0) over the samples priced at most <see cref="ChanceDropCost"/>: what a 1-bit copy
    /// costs on average against a drop, as the measure itself prices them. A reference's loss on the samples it cannot
    /// fit (a label no image feature predicts, say) is many times its loss on the rest, and one sample in seven such
    /// took R from 0.94 to 0.45 on 8,000 synthetic images whose prices then lost 16 points to uniform at 1 bpp
    /// (docs/results.md, "A set its reference learns poorly"). Infinite when no counted drop costs anything.
    /// </summary>
    public double CoarseToDropRatio()
    {
        var distortion = Distortion.Span;
        double coarse = 0, drop = 0;
        for (var i = 0; i < Count; i++)
        {
            var dropCost = distortion[i * SampleQuantizer.WidthCount];
            if (dropCost > ChanceDropCost)
            {
                continue;
            }

            var weight = ImportanceOf(i);
            drop += weight * dropCost;
            coarse += weight * distortion[(i * SampleQuantizer.WidthCount) + 1];
        }

        return drop > 0 ? coarse / drop : double.PositiveInfinity;
    }

    /// <summary>
    /// The largest <see cref="UnfittableShare"/> at which a ranking drop cost is trusted. A reference trained on the set
    /// it prices fits all but 0–1.4 % of Fashion-MNIST (1,000–60,000 images) and of the ~1,300-image small sets. It
    /// predicts worse than chance 5.7–25.5 % of sets with unlearnable or noisy labels (synthetic waves, 16×16 or colour,
    /// one image in seven a flat grey: 5.7–8.1 % and 12.4 %; 10,000 Fashion-MNIST images with a fifth or two fifths of
    /// their labels drawn at random: 14.1 % and 25.5 %, where its prices lost up to 0.69 points to uniform), and
    /// 5.9–9.2 % of a small set it was not trained on. The threshold sits near the geometric middle of the gap (1.4 % to
    /// 5.7 %).
    /// </summary>
    public const double TrustedUnfittableShare = 0.03;

    /// <summary>
    /// The importance-weighted share of samples priced above <see cref="ChanceDropCost"/>: the ones the measure's
    /// reference predicts worse than a guess, mislabelled or unlearnable as often as hard.
    /// </summary>
    public double UnfittableShare()
    {
        var distortion = Distortion.Span;
        double above = 0, all = 0;
        for (var i = 0; i < Count; i++)
        {
            var weight = ImportanceOf(i);
            all += weight;
            above += distortion[i * SampleQuantizer.WidthCount] > ChanceDropCost ? weight : 0;
        }

        return all > 0 ? above / all : 0;
    }

    /// <summary>
    /// Whether the measure's prices say anything about what training needs. A measure whose drop cost does not rank
    /// samples always does. A reference model's prices do not where it cannot fit more than
    /// <see cref="TrustedUnfittableShare"/> of the set (noisy or unlearnable labels: its "hard" samples are those, and
    /// it ranks them dearest), or where <see cref="CoarseToDropRatio"/> is above <see cref="TrustedCoarseToDropRatio"/>
    /// (it has memorised the set: its KL at 1 bit is what a copy's shift costs a model trained on the originals, not what
    /// the copy teaches a model trained on it). Allocated by such prices, 1,000–8,000 synthetic 16×16 images lost 5–21
    /// points to uniform at 1 bpp and 1–2.5 at 2 bpp, where the pixel MSE ties it, a reference trained on another 8×8
    /// set lost 6.2, and 10,000 Fashion-MNIST images with noisy labels 0.69 (docs/results.md, "A reference's prices where
    /// it cannot fit a sample"). Where false, an allocation meant for training uses <see cref="WithFallbackMeasure"/>.
    /// </summary>
    public bool MeasureTrusted =>
        !DropCostRanksSamples || (UnfittableShare() <= TrustedUnfittableShare && CoarseToDropRatio() <= TrustedCoarseToDropRatio);

    /// <summary>
    /// The fewest samples per input value (pixel of every channel) at which a ranking drop cost is trusted. Dropping the
    /// samples a model already gets right is what data pruning finds best only where data is plentiful against the
    /// problem's dimension, and worst where it is scarce (Sorscher et al., "Beyond neural scaling laws", 2022: keep the
    /// hard samples when data is abundant, the easy ones when it is not). With a 10-epoch reference that has not
    /// memorised its set (R 0.32–0.48), the optimum's own drops at 1 bpp on the first N Fashion-MNIST images (784
    /// values) lost 11.8 / 1.1 / 0.7 points to uniform at N = 1,000 / 2,000 / 3,000 (1.3–3.8 samples per value), tied at
    /// 5,000 (6.4) and won 0.5 / 0.4 / 0.7 at 10,000 / 20,000 / 60,000 (12.8 and up) (docs/results.md, "Forced drops
    /// by a reference that generalises"). The threshold sits between the losses and the wins, not fitted to one set.
    /// </summary>
    public const int TrustedSamplesPerValue = 8;

    /// <summary>
    /// The optimum may choose its own drops: the drop cost ranks samples, the measure is trusted
    /// (<see cref="MeasureTrusted"/>: a drop costs clearly more than a coarse copy), and the set is large against its
    /// dimension (<see cref="TrustedSamplesPerValue"/>).
    /// </summary>
    public bool DropCostTrusted =>
        DropCostRanksSamples && (long)Count >= (long)TrustedSamplesPerValue * PixelsPerSample && MeasureTrusted;

    /// <summary>
    /// The same problem priced by <see cref="FallbackDistortion"/> (the pixel MSE) alone: what an untrusted measure
    /// (<see cref="MeasureTrusted"/>) leaves the allocation to.
    /// </summary>
    public AllocationProblem WithFallbackMeasure()
    {
        if (FallbackDistortion.IsEmpty)
        {
            throw new InvalidOperationException("the problem has no fallback distortion to price it by.");
        }

        return new AllocationProblem(Count, PixelsPerSample, BudgetBytes)
        {
            Distortion = FallbackDistortion,
            Importance = Importance,
            MaxBits = MaxBits,
            Labels = Labels,
            CoverageScore = CoverageScore,
            Seed = Seed,
            RecordBytes = RecordBytes,
            SampleBytes = SampleBytes,
        };
    }

    public int Seed { get; init; }

    /// <summary>
    /// Bytes a stored sample costs besides its payload (its index record) when the budget bounds file bytes; 0 when it
    /// bounds the payload alone. A dropped sample costs nothing. Ignored when <see cref="SampleBytes"/> is set: that table
    /// holds everything a sample costs.
    /// </summary>
    public int RecordBytes { get; init; }

    /// <summary>
    /// C[i·9 + b], b = 0..8: what sample i costs at width b, record included, for a codec whose sizes vary per sample (a
    /// range-coded bit plane takes what its pixels compress to). C[i·9] is 0 and C is non-decreasing in b, or the table is
    /// refused with an <see cref="ArgumentException"/> naming the sample and width: the allocators' hulls and the uniform
    /// search assume a wider copy never costs less. Empty (the default): every sample costs the packed bytes of its width
    /// plus <see cref="RecordBytes"/>.
    /// </summary>
    public ReadOnlyMemory<long> SampleBytes
    {
        get => _sampleBytes;
        init
        {
            SampleByteTable.Validate(value.Span, Count);
            _sampleBytes = value;
        }
    }

    private readonly ReadOnlyMemory<long> _sampleBytes;

    public int MaxBitsOf(int index) => MaxBits.IsEmpty ? SampleQuantizer.MaxBits : MaxBits.Span[index];

    public double ImportanceOf(int index) => Importance.IsEmpty ? 1.0 : Importance.Span[index];

    /// <summary>What a sample's first bit saves: w·(D(0) − D(1)), its drop cost against a 1-bit copy.</summary>
    public double FirstBitGain(int index)
    {
        var row = Distortion.Span.Slice(index * SampleQuantizer.WidthCount, 2);
        return ImportanceOf(index) * (row[0] - row[1]);
    }

    /// <summary>
    /// Every sample's <see cref="FirstBitGain"/>, for coverage to drop the cheapest where a class keeps more than half of
    /// its samples; empty where the drop cost ranks samples but is not trusted (<see cref="DropCostTrusted"/>): a
    /// reference that memorised a small set prices the easy samples lowest, and those are what such a set cannot spare.
    /// </summary>
    public double[] DropPrices()
    {
        if (DropCostRanksSamples && !DropCostTrusted)
        {
            return [];
        }

        var prices = new double[Count];
        for (var i = 0; i < prices.Length; i++)
        {
            prices[i] = FirstBitGain(i);
        }

        return prices;
    }

    /// <summary>What sample <paramref name="index"/> costs at width <paramref name="bits"/>: 0 dropped.</summary>
    public long BytesAt(int index, int bits) =>
        !_sampleBytes.IsEmpty ? _sampleBytes.Span[(index * SampleQuantizer.WidthCount) + bits]
        : bits == 0 ? 0 : SampleQuantizer.PackedBytes(PixelsPerSample, bits) + RecordBytes;

    /// <summary>
    /// Bytes of an allocation (sample i at <paramref name="bits"/>[i]) that count against the budget: payload, and the
    /// records when <see cref="RecordBytes"/> is set, or the <see cref="SampleBytes"/> table's costs.
    /// </summary>
    public long TotalBytes(ReadOnlySpan<byte> bits)
    {
        long total = 0;
        for (var i = 0; i < bits.Length; i++)
        {
            total += BytesAt(i, bits[i]);
        }

        return total;
    }
}
