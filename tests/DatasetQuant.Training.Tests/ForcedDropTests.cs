using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;
using DatasetQuant.Training.Data;
using DatasetQuant.Training.Evaluation;
using DatasetQuant.Training.Experiments;
using DatasetQuant.Training.Model;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Training.Tests;

/// <summary>
/// The forced-drop rule and the trust in a model's optional drops on real sets: a small one (1,297 Fashion-MNIST images at
/// 8×8) with a reference model trained on it, as `dq experiment small-data` runs it, and 10,000 images at 28×28.
/// </summary>
public sealed class ForcedDropTests
{
    private static readonly Lazy<SmallDataSet> Set = new(() =>
        SmallDataSets.Create("fmnist-8x8", DatasetSource.Load("fashion-mnist:train"), DatasetSource.Load("fashion-mnist:test"), 1297, seed: 1));

    private static string TrainReference(ImageDataset train, int epochs, TempDirectory temp)
    {
        var statistics = ChannelStatistics.Compute(train);
        var normalization = new InputNormalization([statistics.Mean[0] / 255f], [statistics.StandardDeviation[0] / 255f]);
        var model = MlpModel.CreateRandom(MlpShape.Parse(FormattableString.Invariant($"{train.PixelsPerSample},256,10")), 1);
        using (var trainer = new MlpTrainer(model, new TrainingOptions { Epochs = epochs, Seed = 1 }))
        {
            trainer.Train(new ImageDataSource(train, normalization));
        }

        var path = temp.File("reference.onnx");
        MlpOnnxExporter.Save(model, path, normalization.ToMetadata());
        return path;
    }

    private static QuantizeResult Quantize(ImageDataset train, IDistortionMeasure? measure, double bpp, bool coverage, TempDirectory temp) =>
        DatasetQuantizer.Quantize(train, new QuantizeOptions
        {
            Budget = Budget.FromBitsPerPixel(bpp),
            OutputDirectory = temp.File(FormattableString.Invariant($"{measure?.Name ?? "pixel"}-{bpp}-{coverage}")),
            DistortionMeasure = measure,
            ClassCoverage = coverage,
            MaxDegreeOfParallelism = 1,
        });

    [Fact]
    public void A_forced_drop_keeps_every_sample_the_budget_affords_though_the_model_optimum_keeps_fewer()
    {
        using var temp = new TempDirectory("dq-forced");
        var train = Set.Value.Train;
        using var measure = new ModelDistortionMeasure(TrainReference(train, 40, temp));

        var optimum = Quantize(train, measure, 0.5, coverage: false, temp);
        var adaptive = Quantize(train, measure, 0.5, coverage: true, temp);

        // 0.5 bpp of 64-pixel samples is 4 bytes each: half of them at 1 bit (8 bytes).
        var affordable = (int)(Budget.FromBitsPerPixel(0.5).PayloadBytes(train.Count, 64) / 8);
        var optimumKept = optimum.Bits.Count(b => b > 0);
        Assert.True(optimumKept < affordable * 0.8,
            $"the reference's loss on its own training samples prices a drop below a 1-bit copy, so the plain optimum keeps fewer than the {affordable} affordable; it kept {optimumKept}");
        Assert.Equal(affordable, adaptive.Bits.Count(b => b > 0));
        Assert.All(adaptive.Bits, b => Assert.InRange(b, 0, 1));

        // Each class keeps its share: the subset is balanced because the set is.
        var perClass = Enumerable.Range(0, 10).Select(c => Enumerable.Range(0, train.Count).Count(i => train.Label(i) == c && adaptive.Bits[i] > 0)).ToArray();
        Assert.All(perClass, k => Assert.InRange(k, 64, 65));
    }

    [Fact]
    public void A_reference_that_memorised_the_set_leaves_an_allocation_meant_for_training_to_the_pixel_mse()
    {
        using var temp = new TempDirectory("dq-untrusted");
        var train = Set.Value.Train;
        using var measure = new ModelDistortionMeasure(TrainReference(train, 40, temp));

        // 40 epochs over 1,297 images: the reference's loss on its own samples is about what a 1-bit copy costs it.
        var optimum = Quantize(train, measure, 1, coverage: false, temp);
        var adaptive = Quantize(train, measure, 1, coverage: true, temp);
        Assert.True(adaptive.CoarseToDropRatio > AllocationProblem.TrustedCoarseToDropRatio,
            $"Σ D(1) / Σ D(0) {adaptive.CoarseToDropRatio:F3} should be above {AllocationProblem.TrustedCoarseToDropRatio} for a memorised set");
        Assert.False(adaptive.MeasureTrusted);
        Assert.False(adaptive.DropCostTrusted);

        // The plain optimum stays the measure's own: it drops the samples the reference is surest of.
        Assert.True(optimum.MeasureTrusted);
        Assert.Contains(optimum.Bits, b => b == 0);

        // With coverage the pixel MSE allocates, at an optional and at a forced drop.
        foreach (var bpp in new[] { 0.5, 1, 2 })
        {
            var withModel = bpp == 1 ? adaptive : Quantize(train, measure, bpp, coverage: true, temp);
            Assert.Equal(Quantize(train, null, bpp, coverage: true, temp).Bits, withModel.Bits);
        }

        Assert.All(adaptive.Bits, b => Assert.Equal(1, b));
    }

    [Fact]
    public void Samples_no_reference_can_fit_do_not_make_its_prices_trusted()
    {
        // 8,000 wave images of 16×16, one in seven flat at a grey that says nothing of its label: the reference fits the
        // others and its loss on the flat ones is that of a guess, many times the rest. Counted, they make a drop look
        // dear against a coarse copy; their own prices allocated lost 16 points to uniform at 1 bpp.
        using var temp = new TempDirectory("dq-unfittable");
        var train = WaveImages.Create(8_000, seed: 1, flatEvery: 7);
        using var measure = new ModelDistortionMeasure(TrainReference(train, 10, temp));
        var adaptive = Quantize(train, measure, 1, coverage: true, temp);

        var table = DistortionTable.Measure(train, ChannelStatistics.Compute(train), measure, 6, 1, null, default);
        var counted = new AllocationProblem(train.Count, train.PixelsPerSample, 0) { Distortion = table.Distortion, DropCostRanksSamples = true };
        Assert.True(counted.CoarseToDropRatio() <= AllocationProblem.TrustedCoarseToDropRatio,
            $"over every sample Σ D(1) / Σ D(0) is {counted.CoarseToDropRatio():F3}");
        Assert.Equal(Math.Log(10), measure.ChanceDropCost, 12);
        Assert.True(adaptive.CoarseToDropRatio > AllocationProblem.TrustedCoarseToDropRatio,
            $"over the samples priced at most ln 10 Σ D(1) / Σ D(0) is {adaptive.CoarseToDropRatio:F3}");
        Assert.False(adaptive.MeasureTrusted);
        Assert.Equal(Quantize(train, null, 1, coverage: true, temp).Bits, adaptive.Bits);
    }

    [Fact]
    public void A_reference_that_generalises_keeps_the_optimums_own_drops_where_the_budget_affords_every_sample()
    {
        // 10,000 Fashion-MNIST images at 28×28 (12.8 per pixel): there the optimum's drops won 0.49 points over uniform at 1 bpp.
        var (train, optimum, adaptive) = AtOneBitPerPixelWithASweepReference(10_000);

        Assert.True(adaptive.MeasureTrusted);
        Assert.InRange(adaptive.UnfittableShare, 0, AllocationProblem.TrustedUnfittableShare);
        Assert.Equal(optimum.Bits, adaptive.Bits);
        Assert.InRange(adaptive.Bits.Count(b => b == 0), train.Count / 10, train.Count - 1);
        Assert.Contains(adaptive.Bits, b => b >= 3);
    }

    [Fact]
    public void A_reference_trained_on_noisy_labels_does_not_allocate()
    {
        // 10,000 Fashion-MNIST images at 28×28 with a fifth of their labels drawn at random: the reference fits the rest
        // and predicts the relabelled ones worse than chance; ranked by its loss they are the dearest to keep (with two
        // fifths redrawn its own allocation lost 0.69 points to uniform at 1 bpp).
        using var temp = new TempDirectory("dq-noisy-labels");
        var clean = DatasetSource.Load("fashion-mnist:train").Take(10_000);
        var random = new Random(5);
        var labels = Enumerable.Range(0, clean.Count).Select(i => random.NextDouble() < 0.2 ? random.Next(10) : clean.Label(i)).ToArray();
        var train = new ImageDataset("noisy", 1, 28, 28, 10, clean.AllPixels.ToArray(), labels);
        using var measure = new ModelDistortionMeasure(TrainReference(train, 10, temp));
        var adaptive = Quantize(train, measure, 1, coverage: true, temp);

        Assert.True(adaptive.CoarseToDropRatio <= AllocationProblem.TrustedCoarseToDropRatio,
            $"Σ D(1) / Σ D(0) {adaptive.CoarseToDropRatio:F3}: the ratio alone would trust it");
        Assert.True(adaptive.UnfittableShare > AllocationProblem.TrustedUnfittableShare,
            $"{adaptive.UnfittableShare:P1} predicted worse than chance");
        Assert.False(adaptive.MeasureTrusted);
        Assert.Equal(Quantize(train, null, 1, coverage: true, temp).Bits, adaptive.Bits);
    }

    [Fact]
    public void A_reference_that_generalises_on_a_set_small_against_its_dimension_does_not_choose_the_drops()
    {
        // 1,000 Fashion-MNIST images at 28×28 (1.3 per pixel): the optimum's drops there lost 11.8 points to uniform at 1 bpp.
        // Its prices alone would be trusted (the reference has not memorised the set); the set's size is what is not.
        var (train, optimum, adaptive) = AtOneBitPerPixelWithASweepReference(1_000);
        Assert.True(train.Count < AllocationProblem.TrustedSamplesPerValue * train.PixelsPerSample);
        var optimumKept = optimum.Bits.Count(b => b > 0);
        Assert.InRange(optimumKept, 1, train.Count - (train.Count / 10));
        Assert.True(adaptive.Bits.Count(b => b > 0) > optimumKept,
            $"kept {adaptive.Bits.Count(b => b > 0)} where the optimum keeps {optimumKept} (it drops the samples the reference finds easiest)");
        Assert.True(adaptive.PayloadBytes <= adaptive.BudgetBytes);
    }

    /// <summary>
    /// The first <paramref name="count"/> Fashion-MNIST training images at 1 bpp under a 10-epoch reference trained on
    /// them, as `budget-sweep --limit` trains it: the plain optimum and the allocation with class coverage. Such a
    /// reference has not memorised the set, so its drop prices pass the ratio check.
    /// </summary>
    private static (ImageDataset Train, QuantizeResult Optimum, QuantizeResult Adaptive) AtOneBitPerPixelWithASweepReference(int count)
    {
        using var temp = new TempDirectory("dq-sweep-reference");
        var train = DatasetSource.Load("fashion-mnist:train").Take(count);
        using var measure = new ModelDistortionMeasure(TrainReference(train, 10, temp));
        var optimum = Quantize(train, measure, 1, coverage: false, temp);
        var adaptive = Quantize(train, measure, 1, coverage: true, temp);
        Assert.True(adaptive.CoarseToDropRatio <= AllocationProblem.TrustedCoarseToDropRatio,
            $"Σ D(1) / Σ D(0) {adaptive.CoarseToDropRatio:F3} should be at most {AllocationProblem.TrustedCoarseToDropRatio}");
        return (train, optimum, adaptive);
    }
}
