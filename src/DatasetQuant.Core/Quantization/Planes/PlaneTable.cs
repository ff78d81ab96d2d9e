using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Quantization.Planes;

/// <summary>
/// For every sample and plane count k = 0..8 of the planes codec (docs/format.md §14): what it stores and the pixel MSE
/// it leaves, measured by coding it. Two passes: the first counts every sample's contexts at all 8 planes to fit the
/// set's model, the second codes each sample's planes with that model for their real lengths. Codes are recomputed from
/// the grid rather than kept (a pass holds one sample's), so memory is O(samples · 9).
/// </summary>
public sealed class PlaneTable
{
    private PlaneTable(PlaneGrid[] grids, PlaneProbabilities model, long[] segmentBytes, double[] pixelMse)
    {
        Grids = grids;
        Model = model;
        SegmentBytes = segmentBytes;
        PixelMse = pixelMse;
    }

    /// <summary>Grids[i]: sample i's grid (binary16 origin and step).</summary>
    public PlaneGrid[] Grids { get; }

    public PlaneProbabilities Model { get; }

    /// <summary>SegmentBytes[i·9 + k]: the payload and segment-length varints of sample i's first k planes (0 at k = 0).</summary>
    public long[] SegmentBytes { get; }

    /// <summary>PixelMse[i·9 + k] on the 0–255 scale; k = 0 is the sample dropped (its distance to the channel means).</summary>
    public double[] PixelMse { get; }

    public static PlaneTable Measure(ISampleSource source, ChannelStatistics statistics, int maxDegreeOfParallelism,
        IProgress<QuantizeProgress>? progress, CancellationToken cancellationToken)
    {
        int n = source.Count, pixels = source.Channels * source.Height * source.Width, w = SampleQuantizer.WidthCount;
        var grids = new PlaneGrid[n];
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, maxDegreeOfParallelism), CancellationToken = cancellationToken };
        var zeros = new long[PlaneProbabilities.Count];
        var totals = new long[PlaneProbabilities.Count];
        var gate = new object();
        Parallel.For(0, n, parallel, () => (new float[pixels], new byte[pixels], new long[zeros.Length], new long[totals.Length]), (i, _, scratch) =>
        {
            var (values, codes, z, t) = scratch;
            source.ReadPixels(i, values);
            grids[i] = PlaneGrid.Fit(values);
            grids[i].Encode(values, codes);
            PlaneCoder.Count(codes, source.Channels, source.Height, source.Width, z, t);
            return scratch;
        }, scratch =>
        {
            lock (gate)
            {
                for (var j = 0; j < zeros.Length; j++)
                {
                    zeros[j] += scratch.Item3[j];
                    totals[j] += scratch.Item4[j];
                }
            }
        });

        var model = PlaneProbabilities.Fit(zeros, totals);
        var bytes = new long[n * w];
        var mse = new double[n * w];
        var done = 0;
        Parallel.For(0, n, parallel, () => new Scratch(pixels), (i, _, scratch) =>
        {
            source.ReadPixels(i, scratch.Values);
            grids[i].Encode(scratch.Values, scratch.Codes);
            PlaneCoder.EncodeSegments(scratch.Codes, source.Channels, source.Height, source.Width, PlaneCoder.Planes, model, scratch.Segment, scratch.Output, scratch.Lengths);
            Row(scratch, grids[i], statistics, source.Height * source.Width, bytes.AsSpan(i * w, w), mse.AsSpan(i * w, w));
            var finished = Interlocked.Increment(ref done);
            if (progress is not null && (finished % 1024 == 0 || finished == n))
            {
                // One report at a time: a progress handler (the CLI's bars) need not be thread-safe.
                lock (gate)
                {
                    progress.Report(new QuantizeProgress(QuantizeStage.Measuring, finished, n));
                }
            }

            return scratch;
        }, _ => { });

        return new PlaneTable(grids, model, bytes, mse);
    }

    /// <summary>The table of the samples in another order: row k is this table's row <c>inputIndex[k]</c>.</summary>
    public PlaneTable Reordered(IReadOnlyList<int> inputIndex)
    {
        var w = SampleQuantizer.WidthCount;
        var (grids, bytes, mse) = (new PlaneGrid[inputIndex.Count], new long[inputIndex.Count * w], new double[inputIndex.Count * w]);
        for (var k = 0; k < inputIndex.Count; k++)
        {
            grids[k] = Grids[inputIndex[k]];
            SegmentBytes.AsSpan(inputIndex[k] * w, w).CopyTo(bytes.AsSpan(k * w));
            PixelMse.AsSpan(inputIndex[k] * w, w).CopyTo(mse.AsSpan(k * w));
        }

        return new PlaneTable(grids, Model, bytes, mse);
    }

    /// <summary>Mean pixel MSE over all samples at the given plane counts (dropped samples count as the mean image).</summary>
    public double MeanSquaredError(ReadOnlySpan<byte> planes)
    {
        double total = 0;
        for (var i = 0; i < planes.Length; i++)
        {
            total += PixelMse[(i * SampleQuantizer.WidthCount) + planes[i]];
        }

        return planes.Length == 0 ? 0 : total / planes.Length;
    }

    private static void Row(Scratch scratch, PlaneGrid grid, ChannelStatistics statistics, int plane, Span<long> bytes, Span<double> mse)
    {
        var values = scratch.Values;
        var codes = scratch.Codes;
        double dropped = 0;
        for (var p = 0; p < values.Length; p++)
        {
            var d = values[p] - (double)statistics.Mean[p / plane];
            dropped += d * d;
        }

        mse[0] = dropped / values.Length;
        bytes[0] = 0;
        for (var k = 1; k <= PlaneCoder.Planes; k++)
        {
            var length = scratch.Lengths[k - 1];
            bytes[k] = bytes[k - 1] + length + Leb128.Size((uint)length);
            var cells = scratch.Cells;
            for (var cell = 0; cell < 1 << k; cell++)
            {
                cells[cell] = grid.Cell(cell, k);
            }

            double error = 0;
            var shift = PlaneCoder.Planes - k;
            for (var p = 0; p < values.Length; p++)
            {
                var d = values[p] - (double)cells[codes[p] >> shift];
                error += d * d;
            }

            mse[k] = error / values.Length;
        }
    }

    private sealed class Scratch(int pixels)
    {
        public float[] Values { get; } = new float[pixels];

        public byte[] Codes { get; } = new byte[pixels];

        public byte[] Segment { get; } = new byte[PlaneCoder.SegmentBound(pixels)];

        public byte[] Output { get; } = new byte[PlaneCoder.Planes * PlaneCoder.SegmentBound(pixels)];

        public int[] Lengths { get; } = new int[PlaneCoder.Planes];

        public float[] Cells { get; } = new float[1 << PlaneCoder.Planes];
    }
}
