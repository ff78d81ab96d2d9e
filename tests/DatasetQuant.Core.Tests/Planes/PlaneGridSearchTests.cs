using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Tests.Planes;

public sealed class PlaneGridSearchTests
{
    /// <summary>The grid <see cref="PlaneGrid.Fit(ReadOnlySpan{float})"/> starts from: two-means threshold, least covering step.</summary>
    private static PlaneGrid Plain(float[] x) => PlaneGrid.FitPlain(x, out _, out _);

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
            var plain = Plain(x);

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
            var plain = Plain(x);
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
        var plain = Plain(x);

        Assert.Equal(FirstPlane(plain, x), FirstPlane(fitted, x));
        Assert.True(Cost(fitted, x) < Cost(plain, x));
        var codes = new byte[x.Length];
        fitted.Encode(x, codes);
        Assert.All(x.Select((v, p) => Math.Abs(v - fitted.Reconstruct(codes[p], PlaneCoder.Planes))), e => Assert.True(e <= (fitted.Step / 2) + 1e-6));
    }
}
