using DatasetQuant.Core.Datasets;
using DatasetQuant.Training.Experiments;

namespace DatasetQuant.Training.Tests;

public sealed class SmallDataCheckTests
{
    private static readonly Lazy<(ImageDataset Train, ImageDataset Test)> FashionMnist = new(() =>
        (DatasetSource.Load("fashion-mnist:train"), DatasetSource.Load("fashion-mnist:test")));

    private static int[] ClassCounts(ImageDataset set) =>
        Enumerable.Range(0, set.ClassCount).Select(c => set.Labels.ToArray().Count(l => l == c)).ToArray();

    [Theory]
    [InlineData("fmnist-8x8", 8)]
    [InlineData("fmnist-8x8-counts", 8)]
    [InlineData("fmnist-14x14", 14)]
    public void Balanced_sets_have_the_asked_size_and_resolution_and_a_whole_test_split(string name, int size)
    {
        var (train, test) = FashionMnist.Value;
        var set = SmallDataSets.Create(name, train, test, 1297, seed: 1);

        Assert.Equal((1297, size, size), (set.Train.Count, set.Train.Height, set.Train.Width));
        Assert.Equal((10000, size, size), (set.Test.Count, set.Test.Height, set.Test.Width));
        Assert.All(ClassCounts(set.Train), k => Assert.InRange(k, 129, 130));
    }

    [Fact]
    public void Counted_pixels_take_17_levels()
    {
        var (train, test) = FashionMnist.Value;
        var set = SmallDataSets.Create("fmnist-8x8-counts", train, test, 1297, seed: 1);

        var levels = set.Train.AllPixels.ToArray().Distinct().Order().ToArray();
        Assert.True(levels.Length <= 17, $"{levels.Length} levels");
        Assert.All(levels, v => Assert.Equal(0, Math.Round(v / (255.0 / 16)) * (255.0 / 16) - v, 0));
    }

    [Fact]
    public void The_imbalanced_set_shrinks_each_class_by_the_same_ratio()
    {
        var (train, test) = FashionMnist.Value;
        var counts = ClassCounts(SmallDataSets.Create("fmnist-8x8-imbalanced", train, test, 1297, seed: 1).Train);

        Assert.Equal(1297, counts.Sum());
        for (var c = 1; c < counts.Length; c++)
        {
            Assert.InRange(counts[c] / (double)counts[c - 1], 0.75, 0.85);
        }
    }

    [Fact]
    public void A_set_of_ones_own_is_split_per_seed_with_each_class_in_proportion_and_the_rest_for_testing()
    {
        var whole = FashionMnist.Value.Test.Take(1797);
        var wholeCounts = ClassCounts(whole);

        var one = SmallDataSets.Split(whole, 1297, seed: 1);
        var two = SmallDataSets.Split(whole, 1297, seed: 2);

        Assert.Equal((1297, 500), (one.Train.Count, one.Test.Count));
        var trainCounts = ClassCounts(one.Train);
        for (var c = 0; c < wholeCounts.Length; c++)
        {
            Assert.InRange(trainCounts[c], Math.Floor(wholeCounts[c] * 1297.0 / 1797), Math.Ceiling(wholeCounts[c] * 1297.0 / 1797));
            Assert.Equal(wholeCounts[c], trainCounts[c] + ClassCounts(one.Test)[c]);
        }

        Assert.NotEqual(one.Train.AllPixels.ToArray(), two.Train.AllPixels.ToArray());
        Assert.Equal(1, one.DataSeed);
    }

    [Fact]
    public void A_split_that_leaves_no_test_sample_is_refused_naming_the_option()
    {
        var whole = FashionMnist.Value.Test.Take(100);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => SmallDataSets.Split(whole, 100, seed: 1));
        Assert.Contains("--train-samples 100", error.Message);
    }

    [Fact]
    public void An_unknown_set_is_named_with_the_ones_there_are()
    {
        var (train, test) = FashionMnist.Value;
        var error = Assert.Throws<ArgumentException>(() => SmallDataSets.Create("digits", train, test, 1297, 1));
        Assert.Contains("fmnist-8x8-imbalanced", error.Message);
    }

    [Fact]
    public void The_report_has_a_row_per_budget_and_subset_pooled_over_subsets_with_the_kept_widths()
    {
        var test = FashionMnist.Value.Test.Take(10);
        SweepCell Cell(string method, double[] accuracies) => new(method, 0.5, 40, 0.5, accuracies) { Widths = [5, 5, 0, 0, 0, 0, 0, 0, 0] };
        SmallDataResult Result(int subset, double[] adaptive, double[] uniform) => new(
            new SmallDataSet("tiny", "a test set", test, test, subset),
            new BudgetSweepResult(new SweepCell("full", 8, 640, 8, [0.8, 0.8]), [Cell("adaptive-pixel", adaptive), Cell("uniform", uniform)],
                [0.5], 2, 40, "64-256-10", 10, 10, TimeSpan.FromSeconds(30)));

        var text = SmallDataMarkdown.Format([Result(1, [0.70, 0.72], [0.74, 0.74]), Result(2, [0.76, 0.76], [0.74, 0.74])], "dq experiment small-data --sets tiny");
        var lines = text.Split('\n');

        Assert.StartsWith(SmallDataMarkdown.BeginMarker, text, StringComparison.Ordinal);
        Assert.Contains("| 0.5 | 1 | 0.7100 ± 0.0141 | 0.7400 ± 0.0000 | −3.00 (spread 1.41) |", lines);
        Assert.Contains("| 0.5 | 2 | 0.7600 ± 0.0000 | 0.7400 ± 0.0000 | +2.00 (spread 0.00) |", lines);
        Assert.Contains("| 0.5 | all | 0.7350 ± 0.0300 | 0.7400 ± 0.0000 | −0.50 (spread 3.00) |", lines);
        Assert.Contains("- 0.5 bpp, subset 2: adaptive (pixel MSE) 5 kept (5 / 0 / 0 / 0 / 0 / 0 / 0 / 0); uniform 5 kept (5 / 0 / 0 / 0 / 0 / 0 / 0 / 0)", lines);
    }
}
