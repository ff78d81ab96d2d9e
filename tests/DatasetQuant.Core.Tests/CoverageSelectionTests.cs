using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Tests;

public sealed class CoverageSelectionTests
{
    /// <summary>
    /// 100 labelled samples of 8 pixels: class 0 (50 samples) far from the mean image, classes 1 (30) and 2 (20) close
    /// to it; inside each class D(0) grows with the index so the score ranks are known.
    /// </summary>
    private static (double[] Distortion, int[] Labels) SmallLabelledSet()
    {
        var labels = new int[100];
        var distortion = new double[100 * SampleQuantizer.WidthCount];
        for (var i = 0; i < 100; i++)
        {
            labels[i] = i < 50 ? 0 : i < 80 ? 1 : 2;
            var far = labels[i] == 0 ? 1000.0 : 100.0;
            var d0 = far + i;
            for (var b = 0; b < SampleQuantizer.WidthCount; b++)
            {
                distortion[i * SampleQuantizer.WidthCount + b] = d0 / (1 << (2 * b));
            }
        }

        return (distortion, labels);
    }

    [Fact]
    public void Without_labels_the_dropped_samples_all_come_from_the_classes_near_the_mean()
    {
        var (distortion, _) = SmallLabelledSet();
        var bits = new byte[100];
        // 25 samples at 1 bit (1 byte each for 8 pixels): the budget forces 75 drops.
        new AdaptiveAllocator().Allocate(new AllocationProblem(100, 8, 25) { Distortion = distortion }, bits);

        Assert.Equal(25, bits.Take(50).Count(b => b > 0));
        Assert.Equal(0, bits.Skip(50).Count(b => b > 0));
    }

    [Fact]
    public void With_labels_every_class_keeps_its_share_across_its_whole_range()
    {
        var (distortion, labels) = SmallLabelledSet();
        var bits = new byte[100];
        var problem = new AllocationProblem(100, 8, 25) { Distortion = distortion, Labels = labels };
        new AdaptiveAllocator().Allocate(problem, bits);

        Assert.True(problem.TotalBytes(bits) <= 25);
        var kept = Enumerable.Range(0, 100).Where(i => bits[i] > 0).ToArray();
        Assert.Equal(25, kept.Length);
        // Shares 12.5, 7.5, 5: largest remainders give 13, 7, 5 (ties go to the lower class).
        Assert.Equal(13, kept.Count(i => labels[i] == 0));
        Assert.Equal(7, kept.Count(i => labels[i] == 1));
        Assert.Equal(5, kept.Count(i => labels[i] == 2));
        // Kept samples cover each class from its lowest to its highest drop cost: one per stratum, never only the tail.
        Assert.Contains(kept, i => i < 4);
        Assert.Contains(kept, i => i is >= 46 and < 50);
        Assert.Contains(kept, i => i is >= 80 and < 84);
        Assert.Contains(kept, i => i >= 96);
    }

    /// <summary>
    /// 100 labelled samples of 8 pixels (1 byte per bit of width), 4 classes. Every third one is "easy" the way a model
    /// measure sees it: dropping it costs less than keeping it at 1 bit misleads (D(0) &lt; D(1)).
    /// </summary>
    private static (double[] Distortion, int[] Labels) SetWithEasySamples()
    {
        var labels = new int[100];
        var distortion = new double[100 * SampleQuantizer.WidthCount];
        for (var i = 0; i < 100; i++)
        {
            labels[i] = i % 4;
            var easy = i % 3 == 0;
            distortion[i * SampleQuantizer.WidthCount] = easy ? 0.001 : 10 + i;
            for (var b = 1; b < SampleQuantizer.WidthCount; b++)
            {
                distortion[i * SampleQuantizer.WidthCount + b] = (easy ? 0.5 : 1.0 + (i / 100.0)) / (1 << (2 * (b - 1)));
            }
        }

        return (distortion, labels);
    }

    [Fact]
    public void A_drop_cost_that_ranks_samples_keeps_the_optimum_when_the_budget_affords_every_sample()
    {
        var (distortion, labels) = SetWithEasySamples();
        byte[] Allocate(long budget, bool labelled, bool ranks)
        {
            var bits = new byte[100];
            new AdaptiveAllocator().Allocate(new AllocationProblem(100, 8, budget)
            {
                Distortion = distortion,
                Labels = labelled ? labels : ReadOnlyMemory<int>.Empty,
                DropCostRanksSamples = ranks,
            }, bits);
            return bits;
        }

        // 1 bit per pixel: the optimum drops the 34 easy samples and widens others; with a ranking drop cost it stands.
        var optimum = Allocate(100, labelled: false, ranks: false);
        Assert.All(Enumerable.Range(0, 100).Where(i => i % 3 == 0), i => Assert.Equal(0, optimum[i]));
        Assert.Contains(optimum, b => b >= 2);
        Assert.Equal(optimum, Allocate(100, labelled: true, ranks: true));
        Assert.NotEqual(optimum, Allocate(100, labelled: true, ranks: false));

        // Half a bit per pixel forces 50 samples out: coverage chooses which, ranking drop cost or not.
        var forced = Allocate(50, labelled: true, ranks: true);
        Assert.Equal(Allocate(50, labelled: true, ranks: false), forced);
        Assert.NotEqual(Allocate(50, labelled: false, ranks: false), forced);
    }

    [Fact]
    public void A_ranking_drop_cost_no_dearer_than_a_coarse_copy_is_treated_as_one_that_does_not_rank()
    {
        var (distortion, labels) = SetWithEasySamples();
        var trusted = new AllocationProblem(100, 8, 100) { Distortion = distortion, DropCostRanksSamples = true };
        Assert.True(trusted.DropCostTrusted, $"ratio {trusted.CoarseToDropRatio()}");

        // The hard samples' drops now cost 1.5 times their 1-bit copies (the easy ones' still next to nothing): on
        // average a drop costs less than twice a coarse copy, the way a reference prices a set it has memorised.
        for (var i = 0; i < 100; i++)
        {
            if (i % 3 != 0)
            {
                distortion[i * SampleQuantizer.WidthCount] = 1.5 * distortion[(i * SampleQuantizer.WidthCount) + 1];
            }
        }

        byte[] Allocate(bool labelled, bool ranks, out AllocationProblem problem)
        {
            var bits = new byte[100];
            problem = new AllocationProblem(100, 8, 100)
            {
                Distortion = distortion,
                Labels = labelled ? labels : ReadOnlyMemory<int>.Empty,
                DropCostRanksSamples = ranks,
            };
            new AdaptiveAllocator().Allocate(problem, bits);
            return bits;
        }

        var optimum = Allocate(labelled: false, ranks: false, out _);
        var ranked = Allocate(labelled: true, ranks: true, out var problem);
        Assert.InRange(problem.CoarseToDropRatio(), AllocationProblem.TrustedCoarseToDropRatio, 1);
        Assert.False(problem.DropCostTrusted);

        // The optimum still drops the easy third at 1 bpp; under a drop cost it does not trust, coverage decides as it
        // does for a measure that does not rank.
        Assert.All(Enumerable.Range(0, 100).Where(i => i % 3 == 0), i => Assert.Equal(0, optimum[i]));
        Assert.Equal(Allocate(labelled: true, ranks: false, out _), ranked);
        Assert.NotEqual(optimum, ranked);
    }

    [Fact]
    public void The_coarse_to_drop_ratio_weighs_each_sample_by_its_importance()
    {
        var distortion = new double[2 * SampleQuantizer.WidthCount];
        distortion[0] = 2;
        distortion[1] = 1;
        distortion[SampleQuantizer.WidthCount] = 4;
        distortion[SampleQuantizer.WidthCount + 1] = 1;
        var problem = new AllocationProblem(2, 8, 16) { Distortion = distortion, Importance = new double[] { 1, 3 } };
        Assert.Equal((1 + 3) / (2 + 12.0), problem.CoarseToDropRatio(), 12);
        Assert.Equal(double.PositiveInfinity, new AllocationProblem(2, 8, 16) { Distortion = new double[2 * SampleQuantizer.WidthCount] }.CoarseToDropRatio());
    }

    [Fact]
    public void Samples_priced_above_chance_do_not_count_in_the_coarse_to_drop_ratio()
    {
        // Three samples the reference fits (drop 0.1, 1-bit copy 0.2) and one it cannot (drop 5, copy 0): summed over
        // all four, a drop looks dear against a coarse copy; over the fitted ones a copy costs twice a drop.
        var distortion = new double[4 * SampleQuantizer.WidthCount];
        for (var i = 0; i < 3; i++)
        {
            distortion[i * SampleQuantizer.WidthCount] = 0.1;
            distortion[(i * SampleQuantizer.WidthCount) + 1] = 0.2;
        }

        distortion[3 * SampleQuantizer.WidthCount] = 5;
        var all = new AllocationProblem(4, 8, 32) { Distortion = distortion, DropCostRanksSamples = true };
        var fitted = new AllocationProblem(4, 8, 32) { Distortion = distortion, DropCostRanksSamples = true, ChanceDropCost = Math.Log(10) };
        Assert.Equal(0.6 / 5.3, all.CoarseToDropRatio(), 12);
        Assert.True(all.MeasureTrusted);
        Assert.Equal(2.0, fitted.CoarseToDropRatio(), 12);
        Assert.False(fitted.MeasureTrusted);
        Assert.False(fitted.DropCostTrusted);

        // A measure whose drop cost does not rank samples is always trusted; priced by its fallback, a problem keeps
        // everything else and ranks nothing.
        Assert.True(new AllocationProblem(4, 8, 32) { Distortion = distortion, ChanceDropCost = Math.Log(10) }.MeasureTrusted);
        var pixel = new double[4 * SampleQuantizer.WidthCount];
        var labels = new[] { 0, 1, 0, 1 };
        var fallback = new AllocationProblem(4, 8, 32) { Distortion = distortion, FallbackDistortion = pixel, DropCostRanksSamples = true, Labels = labels, Seed = 7 }
            .WithFallbackMeasure();
        Assert.True(fallback.Distortion.Span.SequenceEqual(pixel));
        Assert.True(fallback.FallbackDistortion.IsEmpty);
        Assert.False(fallback.DropCostRanksSamples);
        Assert.True(fallback.Labels.Span.SequenceEqual(labels));
        Assert.Equal((4, 8, 32L, 7), (fallback.Count, fallback.PixelsPerSample, fallback.BudgetBytes, fallback.Seed));
        Assert.Throws<InvalidOperationException>(() => all.WithFallbackMeasure());
    }

    [Fact]
    public void A_reference_that_cannot_fit_more_than_a_small_share_of_its_samples_is_not_trusted()
    {
        // 100 samples the reference fits (a drop dear against a coarse copy) and, at the end, k it predicts worse than
        // chance, weighing 1 each, or 3 where importance says so.
        AllocationProblem With(int unfittable, double[]? importance = null)
        {
            var distortion = new double[100 * SampleQuantizer.WidthCount];
            for (var i = 0; i < 100; i++)
            {
                distortion[i * SampleQuantizer.WidthCount] = i >= 100 - unfittable ? 4 : 1;
                distortion[(i * SampleQuantizer.WidthCount) + 1] = 0.1;
            }

            return new AllocationProblem(100, 8, 800)
            {
                Distortion = distortion,
                DropCostRanksSamples = true,
                ChanceDropCost = Math.Log(10),
                Importance = importance ?? ReadOnlyMemory<double>.Empty,
            };
        }

        Assert.Equal(0.03, With(3).UnfittableShare(), 12);
        Assert.True(With(3).MeasureTrusted);
        Assert.Equal(0.04, With(4).UnfittableShare(), 12);
        Assert.False(With(4).MeasureTrusted);
        Assert.Equal(0.1, With(4).CoarseToDropRatio(), 12);

        var weights = Enumerable.Range(0, 100).Select(i => i >= 98 ? 3.0 : 1.0).ToArray();
        Assert.Equal(6 / 104.0, With(2, weights).UnfittableShare(), 12);
        Assert.False(With(2, weights).MeasureTrusted);
        Assert.Equal(0, new AllocationProblem(1, 8, 8) { Distortion = new double[SampleQuantizer.WidthCount], Importance = new double[] { 0 } }.UnfittableShare());
    }

    [Fact]
    public void Labels_keep_the_optimums_count_or_as_many_as_the_budget_affords_at_one_bit()
    {
        var (distortion, labels) = SmallLabelledSet();
        foreach (var budget in new long[] { 10, 60, 99, 100, 150, 333, 799 })
        {
            var plain = new byte[100];
            var covered = new byte[100];
            new AdaptiveAllocator().Allocate(new AllocationProblem(100, 8, budget) { Distortion = distortion }, plain);
            var problem = new AllocationProblem(100, 8, budget) { Distortion = distortion, Labels = labels };
            new AdaptiveAllocator().Allocate(problem, covered);

            Assert.True(problem.TotalBytes(covered) <= budget, $"{problem.TotalBytes(covered)} bytes spent of {budget}");
            var affordable = (int)Math.Min(100, budget / problem.BytesAt(0, 1));
            Assert.Contains(covered.Count(b => b > 0), new[] { plain.Count(b => b > 0), affordable });
        }
    }

    /// <summary>Below 1 bpp both keep a representative subset at 1 bit, and which has the lower MSE is chance.</summary>
    [Theory]
    [InlineData(1.0)]
    [InlineData(1.5)]
    [InlineData(2.0)]
    [InlineData(4.0)]
    public void From_one_bit_per_pixel_up_coverage_is_never_above_uniform_in_distortion(double bpp)
    {
        var dataset = Samples.FashionMnistTest.Take(2000);
        var statistics = ChannelStatistics.Compute(dataset);
        var table = DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var labels = Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray();
        var budget = Budget.FromBitsPerPixel(bpp).PayloadBytes(dataset.Count, 784);
        var covered = new byte[dataset.Count];
        var uniform = new byte[dataset.Count];
        var problem = new AllocationProblem(dataset.Count, 784, budget)
        {
            Distortion = table.Distortion,
            Labels = labels,
            CoverageScore = ClassTypicality.Measure(dataset, labels),
        };
        new AdaptiveAllocator().Allocate(problem, covered);
        new UniformAllocator().Allocate(problem, uniform);

        // At 1 bpp coverage leaves no cheap samples to drop, so every sample at 1 bit (uniform's choice) is the best it finds.
        Assert.True(table.MeanSquaredError(covered) <= table.MeanSquaredError(uniform),
            $"{bpp} bpp: adaptive with coverage MSE {table.MeanSquaredError(covered)} > uniform {table.MeanSquaredError(uniform)}");
    }

    [Fact]
    public void A_class_keeping_more_than_half_keeps_every_other_rank_and_then_the_dearest_to_drop()
    {
        // One class of 10 ranked by score; dropping sample i costs price[i].
        var labels = new int[10];
        var score = Enumerable.Range(0, 10).Select(i => (double)i).ToArray();
        double[] price = [5, 1, 9, 1, 2, 1, 8, 1, 3, 1];
        bool[] Kept(int keep, double[] prices)
        {
            var kept = new bool[10];
            CoverageSelection.Select(labels, score, keep, kept, prices);
            return kept;
        }

        static int[] Indices(bool[] kept) => Enumerable.Range(0, kept.Length).Where(i => kept[i]).ToArray();

        // Half of the class (5 strata: ranks 1, 3, 5, 7, 9), then the 3 dearest of the rest.
        Assert.Equal([0, 1, 2, 3, 5, 6, 7, 9], Indices(Kept(8, price)));
        // Up to half, strata middles whatever the prices; without prices, strata middles for every count.
        Assert.Equal(Indices(Kept(4, [])), Indices(Kept(4, price)));
        Assert.Equal([0, 1, 3, 4, 5, 6, 8, 9], Indices(Kept(8, [])));
    }

    [Fact]
    public void Where_a_forced_drop_keeps_most_of_each_class_the_samples_dropped_are_the_cheapest()
    {
        var dataset = Samples.FashionMnistTest.Take(2000);
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var labels = Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray();
        var problem = new AllocationProblem(dataset.Count, 784, Budget.FromBitsPerPixel(0.75).PayloadBytes(dataset.Count, 784))
        {
            Distortion = table.Distortion,
            Labels = labels,
            CoverageScore = ClassTypicality.Measure(dataset, labels),
        };
        var bits = new byte[dataset.Count];
        new AdaptiveAllocator().Allocate(problem, bits);

        Assert.InRange(bits.Count(b => b > 0), 1450, 1550);
        for (var c = 0; c < 10; c++)
        {
            var members = Enumerable.Range(0, dataset.Count).Where(i => labels[i] == c).ToArray();
            var keptGains = members.Where(i => bits[i] > 0).Select(problem.FirstBitGain).Order().ToArray();
            var median = keptGains[keptGains.Length / 2];
            Assert.All(members.Where(i => bits[i] == 0), i => Assert.True(problem.FirstBitGain(i) < median,
                $"class {c}: sample {i} dropped saves {problem.FirstBitGain(i):F0} with its first bit, the kept median {median:F0}"));
        }
    }

    [Fact]
    public void Quantizing_without_coverage_is_the_plain_distortion_optimum()
    {
        using var covered = new DatasetQuant.Testing.TempDirectory();
        using var plain = new DatasetQuant.Testing.TempDirectory();
        var dataset = Samples.FashionMnistTest.Take(1000);
        QuantizeOptions Options(string dir, bool coverage) => new()
        {
            Budget = Budget.Parse("0.5bpp"),
            OutputDirectory = dir,
            ClassCoverage = coverage,
        };

        var withCoverage = DatasetQuantizer.Quantize(dataset, Options(covered.Path, coverage: true));
        var without = DatasetQuantizer.Quantize(dataset, Options(plain.Path, coverage: false));

        // Same widths histogram (half dropped, half at 1 bit), different samples: the optimum drops the cheapest ones.
        Assert.Equal(withCoverage.Histogram(), without.Histogram());
        Assert.True(without.MeanSquaredError < withCoverage.MeanSquaredError * 0.95,
            $"without coverage MSE {without.MeanSquaredError}, with {withCoverage.MeanSquaredError}");
    }

    [Fact]
    public void Budget_is_never_exceeded_on_real_labelled_data()
    {
        var dataset = Samples.FashionMnistTest.Take(3000);
        var statistics = ChannelStatistics.Compute(dataset);
        var table = DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var labels = Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray();
        var maxBits = Enumerable.Range(0, dataset.Count).Select(i => (byte)(1 + i % 8)).ToArray();
        foreach (var bpp in new[] { 0.1, 0.25, 0.5, 0.9, 1.0, 1.3, 2.0, 3.7, 8.0 })
        {
            foreach (var limited in new[] { false, true })
            {
                var budget = Budget.FromBitsPerPixel(bpp).PayloadBytes(dataset.Count, 784);
                var bits = new byte[dataset.Count];
                var problem = new AllocationProblem(dataset.Count, 784, budget)
                {
                    Distortion = table.Distortion,
                    Labels = labels,
                    MaxBits = limited ? maxBits : ReadOnlyMemory<byte>.Empty,
                };
                new AdaptiveAllocator().Allocate(problem, bits);

                Assert.True(problem.TotalBytes(bits) <= budget, $"{bpp} bpp: {problem.TotalBytes(bits)} bytes of {budget}");
                for (var i = 0; i < bits.Length; i++)
                {
                    Assert.True(bits[i] <= problem.MaxBitsOf(i));
                }

                // Below 8 bpp what is left is less than one sample's widest step; at 8 bpp the widths cannot use it all.
                Assert.True(bpp >= 8 || budget - problem.TotalBytes(bits) < problem.BytesAt(0, 8), $"{bpp} bpp: {budget - problem.TotalBytes(bits)} bytes left unspent");
            }
        }
    }

    [Fact]
    public void Real_data_at_a_quarter_bit_keeps_every_class_in_proportion()
    {
        var dataset = Samples.FashionMnistTest.Take(3000);
        var statistics = ChannelStatistics.Compute(dataset);
        var table = DistortionTable.Measure(dataset, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var labels = Enumerable.Range(0, dataset.Count).Select(dataset.Label).ToArray();
        var budget = Budget.FromBitsPerPixel(0.25).PayloadBytes(dataset.Count, 784);
        var bits = new byte[dataset.Count];
        var again = new byte[dataset.Count];
        new AdaptiveAllocator().Allocate(new AllocationProblem(dataset.Count, 784, budget) { Distortion = table.Distortion, Labels = labels }, bits);
        new AdaptiveAllocator().Allocate(new AllocationProblem(dataset.Count, 784, budget) { Distortion = table.Distortion, Labels = labels }, again);

        Assert.Equal(bits, again);
        var kept = bits.Count(b => b > 0);
        Assert.InRange(kept, 740, 750);
        for (var c = 0; c < 10; c++)
        {
            var size = labels.Count(l => l == c);
            var share = (double)size * kept / dataset.Count;
            var count = Enumerable.Range(0, dataset.Count).Count(i => labels[i] == c && bits[i] > 0);
            Assert.InRange(count, Math.Floor(share), Math.Ceiling(share));
        }
    }

    [Fact]
    public void Label_and_score_counts_must_match_the_samples()
    {
        var (distortion, labels) = SmallLabelledSet();
        var bits = new byte[100];
        var labelError = Assert.Throws<ArgumentException>(() => new AdaptiveAllocator().Allocate(
            new AllocationProblem(100, 8, 25) { Distortion = distortion, Labels = labels.AsMemory(0, 99) }, bits));
        var scoreError = Assert.Throws<ArgumentException>(() => new AdaptiveAllocator().Allocate(
            new AllocationProblem(100, 8, 25) { Distortion = distortion, Labels = labels, CoverageScore = new double[3] }, bits));

        Assert.Contains("99 labels for 100 samples", labelError.Message);
        Assert.Contains("3 coverage scores for 100 samples", scoreError.Message);
    }

    [Fact]
    public void Quotas_add_up_and_follow_class_sizes()
    {
        // Classes of 5, 0, 10 and 85 samples.
        var quota = CoverageSelection.Quotas([0, 5, 5, 15, 100], 10);

        Assert.Equal(new[] { 1, 0, 1, 8 }, quota);
        Assert.Equal(100, CoverageSelection.Quotas([0, 5, 5, 15, 100], 100).Sum());
    }

    [Fact]
    public void Negative_labels_are_rejected_with_the_value()
    {
        var kept = new bool[3];
        var error = Assert.Throws<ArgumentException>(() => CoverageSelection.Select([0, -2, 1], [1, 2, 3], 2, kept));
        Assert.Contains("-2", error.Message);
    }
}

public sealed class ClassTypicalityTests
{
    [Fact]
    public void Distance_is_to_the_mean_image_of_the_samples_own_class()
    {
        // Two classes of 2×2 single-channel images: class 0 = {0, 0, 0, 0} and {10, 10, 10, 10} (mean 5 everywhere),
        // class 1 = {100, 100, 100, 100} alone (its own mean).
        float[] pixels = [0, 0, 0, 0, 100, 100, 100, 100, 10, 10, 10, 10];
        var source = new FloatSampleSet("t", 1, 2, 2, 2, Array.ConvertAll(pixels, v => v / 255f), [0, 1, 0]);

        var distance = ClassTypicality.Measure(source, [0, 1, 0]);

        Assert.Equal(25.0, distance[0], 3);
        Assert.Equal(0.0, distance[1], 3);
        Assert.Equal(25.0, distance[2], 3);
    }

    [Fact]
    public void Label_count_must_match_the_samples()
    {
        var source = new FloatSampleSet("t", 1, 2, 2, 1, new float[4], [0]);
        var error = Assert.Throws<ArgumentException>(() => ClassTypicality.Measure(source, [0, 1]));
        Assert.Contains("2 labels for 1 samples", error.Message);
    }
}
