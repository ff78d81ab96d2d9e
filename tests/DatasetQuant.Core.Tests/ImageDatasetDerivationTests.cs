using DatasetQuant.Core.Datasets;

namespace DatasetQuant.Core.Tests;

public sealed class ImageDatasetDerivationTests
{
    private static ImageDataset Single(int size, Func<int, int, byte> pixel, int label = 0, int classes = 1)
    {
        var pixels = new byte[size * size];
        for (var y = 0; y < size; y++)
        {
            for (var x = 0; x < size; x++)
            {
                pixels[y * size + x] = pixel(y, x);
            }
        }

        return new ImageDataset("one", 1, size, size, classes, pixels, [label]);
    }

    [Fact]
    public void Area_resize_averages_whole_blocks()
    {
        var resized = ImageDatasetDerivation.ResizeArea(Single(4, (y, x) => (byte)(y * 4 + x)), 2, 2);

        // Top-left block 0, 1, 4, 5 averages 2.5 (rounds to even: 2); top-right 2, 3, 6, 7 gives 4.5 → 4.
        Assert.Equal(new byte[] { 2, 4, 10, 12 }, resized.Pixels(0).ToArray());
        Assert.Equal((2, 2), (resized.Height, resized.Width));
    }

    [Fact]
    public void Area_resize_weights_a_split_pixel_by_its_overlap()
    {
        // 28 → 8: each output pixel covers 3.5 input columns. Columns 0..13 white, 14..27 black: output columns 0..3 are
        // white and 4..7 black; a single white column 3 lands half in output column 0 (3.0..3.5) and half in column 1.
        var halves = ImageDatasetDerivation.ResizeArea(Single(28, (_, x) => x < 14 ? (byte)255 : (byte)0), 8, 8).Pixels(0).ToArray();
        Assert.Equal(new byte[] { 255, 255, 255, 255, 0, 0, 0, 0 }, halves[..8]);

        var column = ImageDatasetDerivation.ResizeArea(Single(28, (_, x) => x == 3 ? (byte)245 : (byte)0), 8, 8).Pixels(0).ToArray();
        Assert.Equal(35, column[0]); // 245 × 0.5 / 3.5
        Assert.Equal(35, column[1]);
        Assert.Equal(0, column[2]);
    }

    [Fact]
    public void Threshold_and_posterize_give_counted_levels()
    {
        var bw = ImageDatasetDerivation.Threshold(Single(2, (y, x) => (byte)(y * 200 + x * 27)), 128);
        Assert.Equal(new byte[] { 0, 0, 255, 255 }, bw.Pixels(0).ToArray());

        var levels = ImageDatasetDerivation.Posterize(Single(2, (y, x) => (byte)(new[] { 0, 7, 9, 250 }[y * 2 + x])), 17);
        Assert.Equal(new byte[] { 0, 0, 16, 255 }, levels.Pixels(0).ToArray());
    }

    [Fact]
    public void Class_sampling_takes_the_asked_counts_reproducibly_and_shuffled()
    {
        var source = Samples.FashionMnistTest;
        int[] perClass = [5, 0, 3, 3, 3, 3, 3, 3, 3, 20];

        var a = ImageDatasetDerivation.SampleClasses(source, perClass, seed: 7, "a");
        var b = ImageDatasetDerivation.SampleClasses(source, perClass, seed: 7, "b");
        var c = ImageDatasetDerivation.SampleClasses(source, perClass, seed: 8, "c");

        Assert.Equal(perClass, Enumerable.Range(0, 10).Select(k => a.Labels.ToArray().Count(l => l == k)).ToArray());
        Assert.Equal(a.AllPixels.ToArray(), b.AllPixels.ToArray());
        Assert.NotEqual(a.AllPixels.ToArray(), c.AllPixels.ToArray());
        // Shuffled: the 20 samples of class 9 do not come in one run at the end.
        Assert.NotEqual(Enumerable.Repeat(9, 20), a.Labels.ToArray()[^20..]);
    }

    [Fact]
    public void A_class_split_keeps_every_sample_once_between_its_two_parts()
    {
        var source = Samples.FashionMnistTest.Take(300);
        int[] perClass = [5, 0, 3, 3, 3, 3, 3, 3, 3, 20];

        var (chosen, others) = ImageDatasetDerivation.SplitClasses(source, perClass, seed: 7, "train", "test");

        Assert.Equal(ImageDatasetDerivation.SampleClasses(source, perClass, seed: 7, "a").AllPixels.ToArray(), chosen.AllPixels.ToArray());
        Assert.Equal(source.Count, chosen.Count + others.Count);
        var all = Enumerable.Range(0, source.Count).Select(i => Convert.ToBase64String(source.Pixels(i))).Order().ToArray();
        var parts = Enumerable.Range(0, chosen.Count).Select(i => Convert.ToBase64String(chosen.Pixels(i)))
            .Concat(Enumerable.Range(0, others.Count).Select(i => Convert.ToBase64String(others.Pixels(i)))).Order().ToArray();
        Assert.Equal(all, parts);
        Assert.Equal(("train", "test"), (chosen.Name, others.Name));
    }

    [Fact]
    public void Class_sampling_rejects_counts_that_do_not_match_the_classes()
    {
        var source = Single(2, (_, _) => 0, classes: 3);
        var error = Assert.Throws<ArgumentException>(() => ImageDatasetDerivation.SampleClasses(source, [1, 1], 1, "x"));
        Assert.Contains("3 classes", error.Message);
    }
}
