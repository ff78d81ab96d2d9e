using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Tests;

public sealed class CoverageOrderTests
{
    [Fact]
    public void Every_prefix_that_must_drop_samples_gives_each_class_its_share_spread_over_its_ranks_and_a_prefix_that_drops_few_drops_the_cheapest()
    {
        var dataset = Samples.FashionMnistTest.Take(1000);
        var labels = dataset.Labels.ToArray();
        var score = ClassTypicality.Measure(dataset, labels).ToArray();
        var table = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embeddedCodes: true);
        var order = CoverageOrder.Build(new AllocationProblem(1000, 784, 0) { Distortion = table.Distortion }, labels, score);

        // The first 1,000 increments bring every sample to 1 bit; after that only widths above 1 follow.
        Assert.All(order.Increments.Take(1000), increment => Assert.Equal(1, increment.Width));
        Assert.Equal(1000, order.Increments.Take(1000).Select(i => i.Sample).Distinct().Count());
        Assert.All(order.Increments.Skip(1000), increment => Assert.True(increment.Width > 1));

        var classSize = labels.CountBy(l => l).ToDictionary();
        var gain = Enumerable.Range(0, 1000).Select(i => table.Distortion[i * 9] - table.Distortion[(i * 9) + 1]).ToArray();
        foreach (var keep in new[] { 50, 137, 250, 500, 900 })
        {
            var kept = order.Increments.Take(keep).Select(i => i.Sample).ToArray();
            foreach (var (label, size) in classSize)
            {
                var share = (double)keep * size / 1000;
                Assert.InRange(kept.Count(i => labels[i] == label), Math.Floor(share) - 1, Math.Ceiling(share) + 1);
            }

            if (keep <= 500)
            {
                // Up to half of each class, what a prefix leaves out is spread over the ranks too, not the atypical ends of
                // the classes (a prefix that ends inside a level of the bit-reversed ranks takes that level's ranks
                // evenly): pooled over the classes.
                var left = classSize.Keys.SelectMany(label =>
                {
                    var ranks = Enumerable.Range(0, 1000).Where(i => labels[i] == label).OrderBy(i => score[i]).ThenBy(i => i).ToList();
                    return ranks.Where(i => !kept.Contains(i)).Select(i => ranks.IndexOf(i) / (double)ranks.Count);
                }).ToArray();
                Assert.True(left.Average() is > 0.35 and < 0.65, $"at {keep}: {left.Length} left out at mean rank {left.Average():F3}");
            }
            else
            {
                // Beyond half, each class has kept about every other rank, and what is left out saves the least with its
                // first bit: below the median of what its class keeps.
                foreach (var label in classSize.Keys)
                {
                    var keptGains = kept.Where(i => labels[i] == label).Select(i => gain[i]).Order().ToArray();
                    var median = keptGains[keptGains.Length / 2];
                    Assert.All(Enumerable.Range(0, 1000).Where(i => labels[i] == label && !kept.Contains(i)), i => Assert.True(gain[i] < median, $"class {label} at {keep}: sample {i} left out saves {gain[i]:F1}, its class's kept median {median:F1}"));
                }
            }

            // Inside each class the kept samples reach from its typical to its atypical end.
            foreach (var label in classSize.Keys)
            {
                var ranks = Enumerable.Range(0, 1000).Where(i => labels[i] == label).OrderBy(i => score[i]).ThenBy(i => i).ToList();
                var positions = kept.Where(i => labels[i] == label).Select(i => ranks.IndexOf(i) / (double)ranks.Count).ToArray();
                if (positions.Length >= 4)
                {
                    Assert.True(positions.Min() < 0.3 && positions.Max() > 0.7, $"class {label} at {keep}: ranks {positions.Min():F2}..{positions.Max():F2}");
                }
            }
        }
    }

    [Fact]
    public void Classes_alike_take_different_ranks_where_a_prefix_ends_inside_a_level_so_together_they_cover_their_ranks_evenly()
    {
        // Eight classes of 64 samples whose scores rank alike; 40 of each is the 31 even ranks of levels 0–4 and 9 of
        // the 32 odd ranks of level 5. Had every class taken the same 9, those ranks would be kept in all eight classes
        // and the other 23 in none: where the ranks' costs differ, every class would miss the same ones.
        const int classes = 8, size = 64, keep = 40;
        var labels = Enumerable.Range(0, classes * size).Select(i => i % classes).ToArray();
        var score = Enumerable.Range(0, classes * size).Select(i => (double)(i / classes)).ToArray();
        var kept = CoverageOrder.KeepOrder(labels, score, []).Take(classes * keep).ToArray();

        Assert.All(Enumerable.Range(0, classes), c => Assert.Equal(keep, kept.Count(i => labels[i] == c)));
        var rankOf = (int sample) => sample / classes;
        Assert.All(Enumerable.Range(1, size / 2 - 1).Select(r => 2 * r), r => Assert.Equal(classes, kept.Count(i => rankOf(i) == r)));
        var oddRanks = Enumerable.Range(0, size / 2).Select(r => kept.Count(i => rankOf(i) == (2 * r) + 1)).ToArray();
        Assert.True(oddRanks.Min() >= 1 && oddRanks.Max() <= 3, $"classes keeping each odd rank: {string.Join(", ", oddRanks)}");
    }

    [Fact]
    public void A_drop_price_the_measure_does_not_trust_does_not_decide_which_samples_come_first()
    {
        var dataset = Samples.FashionMnistTest.Take(1000);
        var labels = dataset.Labels.ToArray();
        var score = ClassTypicality.Measure(dataset, labels).ToArray();
        var pixels = DistortionTable.Measure(dataset, ChannelStatistics.Compute(dataset), PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embeddedCodes: true).Distortion;

        // Two references that have memorised their set, pricing the samples differently: a drop costs about what a 1-bit
        // copy does (R = 1/1.2) in both, so neither price ranks samples the allocator trusts.
        IncrementOrder Order(Func<int, int> row)
        {
            var distortion = new double[1000 * 9];
            for (var i = 0; i < 1000; i++)
            {
                pixels.AsSpan(row(i) * 9, 9).CopyTo(distortion.AsSpan(i * 9, 9));
                distortion[i * 9] = 1.2 * distortion[(i * 9) + 1];
            }

            var problem = new AllocationProblem(1000, 784, 0) { Distortion = distortion, DropCostRanksSamples = true };
            Assert.False(problem.DropCostTrusted);
            return CoverageOrder.Build(problem, labels, score);
        }

        var first = Order(i => i).Increments.Take(1000).Select(i => i.Sample);
        var second = Order(i => 999 - i).Increments.Take(1000).Select(i => i.Sample);
        Assert.Equal(first, second);
    }
}
