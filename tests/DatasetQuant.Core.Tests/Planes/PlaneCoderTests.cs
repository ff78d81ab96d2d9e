using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Tests.Planes;

public sealed class PlaneCoderTests
{
    [Theory]
    [InlineData(1, 28, 28)]
    [InlineData(3, 5, 7)]
    [InlineData(1, 1, 1)]
    public void Every_prefix_of_planes_decodes_to_the_codes_top_bits(int channels, int height, int width)
    {
        var pixels = channels * height * width;
        var dataset = DatasetSource.Load("fashion-mnist:test");
        var samples = Enumerable.Range(0, 40).Select(i => Resample(dataset.Pixels(i), pixels)).ToArray();
        var codes = new byte[samples.Length][];
        var zeros = new long[PlaneCoder.Planes * PlaneCoder.Contexts];
        var totals = new long[zeros.Length];
        for (var i = 0; i < samples.Length; i++)
        {
            codes[i] = new byte[pixels];
            PlaneGrid.Fit(samples[i]).Encode(samples[i], codes[i]);
            PlaneCoder.Count(codes[i], channels, height, width, zeros, totals);
        }

        var model = PlaneProbabilities.Fit(zeros, totals);
        var buffer = new byte[(pixels * 11) + 64];
        var decoded = new byte[pixels];
        foreach (var u in codes)
        {
            var encoder = new BinaryRangeEncoder(buffer);
            for (var planes = 1; planes <= PlaneCoder.Planes; planes++)
            {
                PlaneCoder.EncodePlane(ref encoder, u, channels, height, width, PlaneCoder.Planes - planes, model);
                var copy = encoder;
                var segment = buffer.AsSpan(0, copy.Finish()).ToArray();
                Array.Clear(decoded);
                var decoder = new BinaryRangeDecoder(segment);
                for (var k = 1; k <= planes; k++)
                {
                    PlaneCoder.DecodePlane(ref decoder, decoded, channels, height, width, PlaneCoder.Planes - k, model);
                }

                var dropped = PlaneCoder.Planes - planes;
                Assert.Equal(u.Select(c => (byte)((c >> dropped) << dropped)), decoded);
            }
        }
    }

    [Fact]
    public void The_grid_covers_every_pixel_to_half_a_step_and_its_first_plane_splits_as_the_two_means_threshold_does()
    {
        var dataset = DatasetSource.Load("fashion-mnist:test");
        for (var i = 0; i < 50; i++)
        {
            var x = dataset.Pixels(i);
            var grid = PlaneGrid.Fit(x);
            var u = new byte[x.Length];
            grid.Encode(x, u);
            for (var p = 0; p < x.Length; p++)
            {
                Assert.InRange(grid.Reconstruct(u[p], PlaneCoder.Planes), x[p] - (grid.Step / 2) - 1e-9, x[p] + (grid.Step / 2) + 1e-9);
            }

            // Pixels above the threshold (grid's middle) take bit 7; their mean and the others' straddle it evenly.
            var threshold = grid.Origin + (128 * grid.Step);
            double high = 0, low = 0;
            int highCount = 0, lowCount = 0;
            for (var p = 0; p < x.Length; p++)
            {
                Assert.Equal(x[p] >= threshold, u[p] >= 128);
                if (u[p] >= 128)
                {
                    high += x[p];
                    highCount++;
                }
                else
                {
                    low += x[p];
                    lowCount++;
                }
            }

            // The whole-number threshold splits as the two means do: no pixel falls between it and their middle but
            // within a level of the middle (the grid may move the threshold across a gap in the pixels' values).
            var middle = ((low / lowCount) + (high / highCount)) / 2;
            for (var p = 0; p < x.Length; p++)
            {
                Assert.True(x[p] >= threshold ? x[p] >= middle - 1 : x[p] < middle + 1, $"sample {i}, pixel {p}: {x[p]} against {threshold} and {middle}");
            }
        }
    }

    private static byte[] Resample(ReadOnlySpan<byte> source, int pixels)
    {
        var result = new byte[pixels];
        for (var p = 0; p < pixels; p++)
        {
            result[p] = source[(int)((long)p * source.Length / pixels)];
        }

        return result;
    }
}
