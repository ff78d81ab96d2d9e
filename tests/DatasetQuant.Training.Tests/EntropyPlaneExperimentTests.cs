using DatasetQuant.Core.Datasets;
using DatasetQuant.Training.Experiments;

namespace DatasetQuant.Training.Tests;

public sealed class EntropyPlaneExperimentTests
{
    [Fact]
    public void Each_budget_is_kept_and_the_written_reconstruction_has_the_reported_error()
    {
        var dataset = DatasetSource.Load("fashion-mnist:test").Take(400);
        var folder = Directory.CreateTempSubdirectory("dq-planes-").FullName;
        try
        {
            var report = EntropyPlaneExperiment.Run(dataset, [0.25, 1, 4], folder);
            Assert.Equal(3, report.Rows.Count);
            Assert.InRange(report.LosslessBitsPerPixel, 1, 8);
            double previous = double.PositiveInfinity;
            foreach (var row in report.Rows)
            {
                Assert.InRange(row.PlanesBytes, row.BudgetBytes * 0.9, row.BudgetBytes);
                Assert.True(row.PlaneSegmentBytes >= row.PlanesBytes, $"{row.PlaneSegmentBytes} < {row.PlanesBytes}");
                Assert.True(row.Planes < previous, $"{row.BitsPerPixel} bpp: MSE {row.Planes} not below {previous}");
                previous = row.Planes;

                // The written samples, with the dropped ones as the mean image, give the row's MSE (up to the uint8 rounding).
                var prefix = Path.Combine(folder, $"planes-{row.BitsPerPixel}bpp");
                var images = NpyReader.Read(prefix + "-x.npy");
                var labels = NpyReader.Read(prefix + "-y.npy").ToInt64();
                var sources = NpyReader.Read(prefix + "-source.npy").ToInt64();
                Assert.Equal([row.PlanesKept, 1, 28, 28], images.Shape);
                Assert.Equal(sources.Select(i => (long)dataset.Label((int)i)), labels);
                Assert.Equal(sources.Order(), sources);
                Assert.InRange(ErrorAgainst(dataset, images.Data, sources), row.Planes - 0.5, row.Planes + 0.5);
            }

            // At 4 bpp every sample is kept and near lossless; the fixed-width refitted codes have far more error there.
            Assert.Equal(400, report.Rows[^1].PlanesKept);
            Assert.True(report.Rows[^1].Planes < report.Rows[^1].Refitted / 4, $"{report.Rows[^1].Planes} vs {report.Rows[^1].Refitted}");
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>Pixel MSE of the written samples against their sources, every other sample counted as the mean image.</summary>
    private static double ErrorAgainst(ImageDataset dataset, byte[] kept, long[] sources)
    {
        var pixels = dataset.PixelsPerSample;
        var mean = new double[pixels];
        for (var i = 0; i < dataset.Count; i++)
        {
            for (var p = 0; p < pixels; p++)
            {
                mean[p] += dataset.Pixels(i)[p] / (double)dataset.Count;
            }
        }

        var written = new Dictionary<long, int>();
        for (var j = 0; j < sources.Length; j++)
        {
            written[sources[j]] = j;
        }

        double error = 0;
        for (var i = 0; i < dataset.Count; i++)
        {
            var x = dataset.Pixels(i);
            for (var p = 0; p < pixels; p++)
            {
                var d = written.TryGetValue(i, out var j) ? x[p] - kept[(j * pixels) + p] : x[p] - mean[p];
                error += d * d;
            }
        }

        return error / ((double)dataset.Count * pixels);
    }
}
