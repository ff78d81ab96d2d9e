using DatasetQuant.Core.Datasets;
using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

public sealed class SmallDataCommandTests
{
    /// <summary>300 Fashion-MNIST test images area-averaged to 8×8, as .npy files: a small set of one's own.</summary>
    private static string OwnSet(TempDirectory temp)
    {
        var small = ImageDatasetDerivation.ResizeArea(DatasetSource.Load("fashion-mnist:test").Take(300), 8, 8);
        var (x, y) = (temp.File("x.npy"), temp.File("y.npy"));
        NpyWriter.Write(x, small.AllPixels.ToArray(), small.Count, 1, 8, 8);
        NpyWriter.Write(y, small.Labels.ToArray().Select(l => (long)l).ToArray(), small.Count);
        return $"npy:{x},{y}";
    }

    [Fact]
    public async Task A_set_of_ones_own_is_split_into_training_and_test_samples_and_checked()
    {
        using var temp = new TempDirectory("dq-small-cli");
        var result = await DqProcess.RunAsync("experiment", "small-data", "--input", OwnSet(temp), "--train-samples", "200",
            "--data-seeds", "1", "--budgets", "0.5", "--seeds", "1", "--epochs", "2", "--methods", "adaptive-pixel,uniform");

        Assert.True(result.ExitCode == 0, result.StdErr + result.StdOut);
        Assert.Contains("200 training samples per subset, 100 test samples, MLP 64-256-10, 2 epochs", result.StdOut);
        // At 0.5 bpp on 8×8 images half of the 200 are kept, at 1 bit.
        Assert.Contains("- 0.5 bpp, subset 1: adaptive (pixel MSE) 100 kept (100 / 0 / 0 / 0 / 0 / 0 / 0 / 0); uniform 100 kept", result.StdOut);
    }

    [Fact]
    public async Task A_held_out_reference_needs_sets_that_are_drawn_not_split()
    {
        using var temp = new TempDirectory("dq-small-cli");
        var result = await DqProcess.RunAsync("experiment", "small-data", "--input", OwnSet(temp), "--held-out-reference");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--held-out-reference", result.StdErr);
        Assert.Contains("--input", result.StdErr);
    }

    [Fact]
    public async Task A_split_that_leaves_no_test_sample_names_the_option()
    {
        using var temp = new TempDirectory("dq-small-cli");
        var result = await DqProcess.RunAsync("experiment", "small-data", "--input", OwnSet(temp), "--train-samples", "300");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--train-samples 300 leaves no test sample of the 300", result.StdErr);
    }
}
