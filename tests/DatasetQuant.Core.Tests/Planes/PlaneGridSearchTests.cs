using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Tests.Planes;

public sealed class PlaneGridSearchTests
{
    /// <summary>The grid <see cref="PlaneGrid.Fit(ReadOnlySpan{float})"/> starts from: two-means threshold, least covering step.</summary>
    private static PlaneGrid Plain(ReadOnlySpan<float> x, PlaneGrid fitted)
    {
        float min = x[0], max = x[0];
        foreach (var v in x)
        {
            (min, max) = (Math.Min(min, v), Math.Max(max, v));
        }

        // The threshold the search started from splits as the fitted one does: recover it as the plain fit's.
        var plainThreshold = PlainThreshold(x);
        return new PlaneGrid((byte)plainThreshold, (byte)PlaneGrid.LeastStepCode(plainThreshold, min, max));
    }

    private static int PlainThreshold(ReadOnlySpan<float> x)
    {
        double threshold = 0;
        foreach (var v in x)
        {
            threshold += v;
        }

        threshold /= x.Length;
        for (var iteration = 0; iteration < 10; iteration++)
        {
            double low = 0, high = 0;
            int lowCount = 0, highCount = 0;
            foreach (var v in x)
            {
                if (v < threshold)
                {
                    (low, lowCount) = (low + v, lowCount + 1);
                }
                else
                {
                    (high, highCount) = (high + v, highCount + 1);
                }
            }

            if (lowCount == 0 || highCount == 0)
            {
                break;
            }

            threshold = ((low / lowCount) + (high / highCount)) / 2;
        }

        return (int)Math.Clamp(Math.Ceiling(threshold - 1e-9), 0, 255);
    }

    private static double Cost(PlaneGrid grid, float[] x) =>
        PlaneGridSearch.Cost(grid, x, Enumerable.Repeat(1, x.Length).ToArray());

    private static double Mse(PlaneGrid grid, float[] x, int planes)
    {
        var codes = new byte[x.Length];
        grid.Encode(x, codes);
        return x.Select((v, p) => Math.Pow(v - grid.Reconstruct(codes[p], planes), 2)).Average();
    }

    private static byte[] FirstPlane(PlaneGrid grid, float[] x)
    {
        var codes = new byte[x.Length];
        grid.Encode(x, codes);
        return codes.Select(c => (byte)(c >> 7)).ToArray();
    }

    [Fact]
    public void On_Fashion_MNIST_the_fitted_grid_never_costs_more_than_the_plain_one_and_splits_the_first_plane_as_it_does()
    {
        var dataset = DatasetSource.Load("fashion-mnist:test");
        var moved = 0;
        for (var i = 0; i < 200; i++)
        {
            var x = dataset.Pixels(i).ToArray().Select(b => (float)b).ToArray();
            var fitted = PlaneGrid.Fit(x);
            var plain = Plain(x, fitted);

            Assert.True(Cost(fitted, x) <= Cost(plain, x), $"sample {i}: {fitted} costs more than {plain}");
            Assert.Equal(FirstPlane(plain, x), FirstPlane(fitted, x));
            moved += fitted == plain ? 0 : 1;
        }

        // The search is not idle: most samples' grids move.
        Assert.InRange(moved, 100, 200);
    }

    [Fact]
    public void On_images_of_17_grey_levels_the_finer_planes_lose_less()
    {
        var random = new Random(5);
        double[] fittedMse = new double[9], plainMse = new double[9];
        for (var image = 0; image < 40; image++)
        {
            // 8×8 images whose pixels count 0..16 inked sub-pixels, as digit sets of that size do, over a dark ground.
            var x = Enumerable.Range(0, 64).Select(_ => random.Next(3) == 0 ? 0f : (float)Math.Round(random.Next(17) * 255.0 / 16)).ToArray();
            var fitted = PlaneGrid.Fit(x);
            var plain = Plain(x, fitted);
            Assert.Equal(FirstPlane(plain, x), FirstPlane(fitted, x));
            for (var k = 1; k <= 8; k++)
            {
                fittedMse[k] += Mse(fitted, x, k);
                plainMse[k] += Mse(plain, x, k);
            }
        }

        for (var k = 3; k <= 6; k++)
        {
            Assert.True(fittedMse[k] < 0.9 * plainMse[k], $"{k} planes: {fittedMse[k] / 40:F2} against the plain grid's {plainMse[k] / 40:F2}");
        }
    }

    [Fact]
    public void Pixels_between_grey_levels_are_searched_over_their_own_values()
    {
        var random = new Random(9);
        var x = Enumerable.Range(0, 49).Select(_ => (float)(random.Next(9) * 30 + 0.25)).ToArray();
        var fitted = PlaneGrid.Fit(x);
        var plain = Plain(x, fitted);

        Assert.Equal(FirstPlane(plain, x), FirstPlane(fitted, x));
        Assert.True(Cost(fitted, x) < Cost(plain, x));
        var codes = new byte[x.Length];
        fitted.Encode(x, codes);
        Assert.All(x.Select((v, p) => Math.Abs(v - fitted.Reconstruct(codes[p], PlaneCoder.Planes))), e => Assert.True(e <= (fitted.Step / 2) + 1e-6));
    }
}
