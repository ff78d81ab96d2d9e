namespace DatasetQuant.Core.Quantization;

/// <summary>
/// D_i(b): how much sample i suffers at width b, for every width 0..8 at once and for a batch of samples at once (so a
/// model-based measure can run a classifier on whole batches). The default is <see cref="PixelMseDistortion"/>; a
/// model-based measure compares a reference classifier's outputs on <see cref="DistortionBatch.Reconstruct"/>d samples
/// with its outputs on the originals.
/// </summary>
public interface IDistortionMeasure
{
    string Name { get; }

    /// <summary>How many samples the measure wants per call (the pipeline may pass fewer at the end).</summary>
    int BatchSize { get; }

    /// <summary>
    /// Writes distortion[k·9 + b] for sample k of the batch and width b = 0..8 (b = 0: the sample dropped). Values must be
    /// finite and non-negative; smaller is better. Called from one thread at a time.
    /// </summary>
    void Measure(DistortionBatch batch, Span<double> distortion);

    /// <summary>
    /// True when D_i(0) is what training loses without sample i (a reference model's loss on it), so the samples the
    /// optimum drops are the ones the data can spare, where its prices are trusted (<see cref="AllocationProblem.DropCostTrusted"/>);
    /// false when D_i(0) only says how far the sample is from the mean image, a ranking that keeps the atypical tail
    /// (see <see cref="AdaptiveAllocator"/>).
    /// </summary>
    bool DropCostRanksSamples => false;

    /// <summary>
    /// The drop cost of a sample the measure's reference has learnt nothing about: for a cross-entropy over K classes, ln K,
    /// what a uniform guess costs. A sample priced above it is as likely mislabelled or unlearnable as hard, so it does not
    /// count when the prices' trust is decided (<see cref="AllocationProblem.ChanceDropCost"/>). Infinite, the default,
    /// where D_i(0) is not a loss.
    /// </summary>
    double ChanceDropCost => double.PositiveInfinity;
}
