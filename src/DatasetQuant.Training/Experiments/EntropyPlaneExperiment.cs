using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Training.Experiments;

/// <summary>
/// One budget of <see cref="EntropyPlaneExperiment"/>: pixel MSE and samples kept by each code. <see cref="PlanesBytes"/>
/// stores each kept sample's planes as one segment; <see cref="PlaneSegmentBytes"/> the same planes as one segment per
/// plane (what a layer that raises a sample by a plane would carry), each with its length.
/// </summary>
public sealed record EntropyPlaneRow(double BitsPerPixel, long BudgetBytes, double Refitted, int RefittedKept, double Planes, int PlanesKept, long PlanesBytes,
    long PlaneSegmentBytes);

/// <summary>The whole run: the rows and what the coder cost.</summary>
public sealed record EntropyPlaneReport(string Name, int Samples, int PixelsPerSample, double LosslessBitsPerPixel, int ModelBytes,
    double FlushBytesPerSegment, IReadOnlyList<EntropyPlaneRow> Rows);

/// <summary>
/// Whether an entropy-coded embedded code would keep the adaptive optimum: each sample's 8-bit codes on a nested grid
/// (<see cref="PlaneGrid"/>), its planes range-coded with <see cref="PlaneCoder"/>'s context model, so that a sample
/// with k planes is a prefix of one with k + 1 (what a rise appends and a drop cuts, as the fixed-width embedded code
/// of docs/format.md §11); against the adaptive allocation over per-width refitted fixed-width codes (what
/// <c>dq quantize</c> writes) at the same payload bytes. The planes' budget is charged everything a stored set would
/// add to the fixed-width one's: the model table, each sample's segment length (a varint) and the coder's flush. Sizes
/// are real: every sample is coded, and at each budget every kept sample's segment is decoded and compared with its
/// codes. Distortion as in <see cref="EmbeddedCodeExperiment"/>: pixel MSE on the 0–255 scale over every sample,
/// dropped ones as the mean image; the allocation is the plain optimum for both (no class coverage).
/// </summary>
public static class EntropyPlaneExperiment
{
    /// <summary>
    /// Runs every budget; with <paramref name="writeDirectory"/>, also writes each budget's kept samples as the planes
    /// reconstruct them (<c>planes-{bpp}bpp-x.npy</c>, uint8 N×C×H×W, and <c>-y.npy</c>, int64), for <c>dq train --data npy:…</c>,
    /// and which source samples they are (<c>-source.npy</c>, int64).
    /// </summary>
    public static EntropyPlaneReport Run(ImageDataset source, IReadOnlyList<double> budgets, string? writeDirectory = null)
    {
        int n = source.Count, pixels = source.PixelsPerSample;
        var grids = new PlaneGrid[n];
        var codes = new byte[(long)n * pixels];
        var zeros = new long[PlaneCoder.Planes * PlaneCoder.Contexts];
        var totals = new long[zeros.Length];
        for (var i = 0; i < n; i++)
        {
            grids[i] = PlaneGrid.Fit(source.Pixels(i));
            grids[i].Encode(source.Pixels(i), Codes(codes, i, pixels));
            PlaneCoder.Count(Codes(codes, i, pixels), source.Channels, source.Height, source.Width, zeros, totals);
        }

        var model = PlaneProbabilities.Fit(zeros, totals);
        var (bytes, distortion, flush, perPlane) = Measure(source, grids, codes, model);
        var refitted = DistortionTable.Measure(source, ChannelStatistics.Compute(source), PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var widths = new byte[n];
        var planes = new int[n];
        var rows = new List<EntropyPlaneRow>();
        foreach (var bpp in budgets)
        {
            var budgetBytes = Budget.FromBitsPerPixel(bpp).PayloadBytes(n, pixels);
            new AdaptiveAllocator().Allocate(new AllocationProblem(n, pixels, budgetBytes) { Distortion = refitted.Distortion }, widths);
            var (used, sum) = Allocate(bytes, distortion, budgetBytes - PlaneProbabilities.StoredBytes, planes);
            Verify(source, codes, model, planes);
            if (writeDirectory is not null)
            {
                Write(source, grids, codes, planes, Path.Combine(writeDirectory, string.Create(CultureInfo.InvariantCulture, $"planes-{bpp}bpp")));
            }

            long segments = PlaneProbabilities.StoredBytes;
            for (var i = 0; i < n; i++)
            {
                segments += perPlane[(i * 9) + planes[i]];
            }

            rows.Add(new EntropyPlaneRow(bpp, budgetBytes, refitted.MeanSquaredError(widths), widths.Count(b => b > 0),
                sum / ((double)n * pixels), planes.Count(k => k > 0), used + PlaneProbabilities.StoredBytes, segments));
        }

        long lossless = 0;
        for (var i = 0; i < n; i++)
        {
            lossless += bytes[(i * 9) + 8];
        }

        return new EntropyPlaneReport(source.Name, n, pixels, lossless * 8.0 / ((double)n * pixels), PlaneProbabilities.StoredBytes, flush, rows);
    }

    private static Span<byte> Codes(byte[] codes, int sample, int pixels) => codes.AsSpan(sample * pixels, pixels);

    /// <summary>
    /// Per sample and plane count k = 0..8: the bytes stored (segment and its length's varint; 0 when dropped), the squared
    /// error, and the bytes of the same planes as one segment each.
    /// </summary>
    private static (long[] Bytes, double[] Distortion, double FlushPerSegment, long[] PerPlane) Measure(ImageDataset source, PlaneGrid[] grids, byte[] codes, PlaneProbabilities model)
    {
        int n = source.Count, pixels = source.PixelsPerSample;
        var mean = new double[pixels];
        for (var i = 0; i < n; i++)
        {
            var x = source.Pixels(i);
            for (var p = 0; p < pixels; p++)
            {
                mean[p] += x[p] / (double)n;
            }
        }

        var bytes = new long[n * 9];
        var distortion = new double[n * 9];
        var buffer = new byte[(pixels * 11) + 64];
        var overIdeal = new double[n];
        var perPlane = new long[n * 9];
        var planeBuffer = new byte[(pixels * 11) + 64];
        for (var i = 0; i < n; i++)
        {
            var x = source.Pixels(i);
            var u = Codes(codes, i, pixels);
            for (var p = 0; p < pixels; p++)
            {
                distortion[i * 9] += (x[p] - mean[p]) * (x[p] - mean[p]);
            }

            var encoder = new BinaryRangeEncoder(buffer);
            double ideal = 0;
            var length = 0;
            for (var k = 1; k <= PlaneCoder.Planes; k++)
            {
                var bit = PlaneCoder.Planes - k;
                PlaneCoder.EncodePlane(ref encoder, u, source.Channels, source.Height, source.Width, bit, model);
                ideal += PlaneCoder.IdealBits(u, source.Channels, source.Height, source.Width, bit, model) / 8;
                var copy = encoder;
                length = copy.Finish();
                bytes[(i * 9) + k] = length + VarintLength(length);
                var alone = new BinaryRangeEncoder(planeBuffer);
                PlaneCoder.EncodePlane(ref alone, u, source.Channels, source.Height, source.Width, bit, model);
                var planeLength = alone.Finish();
                perPlane[(i * 9) + k] = perPlane[(i * 9) + k - 1] + planeLength + VarintLength(planeLength);
                overIdeal[i] = length - ideal;
                double error = 0;
                for (var p = 0; p < pixels; p++)
                {
                    var d = x[p] - grids[i].Reconstruct(u[p], k);
                    error += d * d;
                }

                distortion[(i * 9) + k] = error;
            }

            // The whole segment (all planes) is still in the buffer: it must decode to the codes themselves.
            Check(source, buffer.AsSpan(0, length), u, PlaneCoder.Planes, model, i);
        }

        Array.Sort(overIdeal);
        return (bytes, distortion, overIdeal[n / 2], perPlane);
    }

    /// <summary>The plane counts of least Σ distortion within the budget: one slope for every sample, found by bisection.</summary>
    private static (long Bytes, double Distortion) Allocate(long[] bytes, double[] distortion, long budget, int[] planes)
    {
        (long, double) At(double lambda, bool keep)
        {
            long used = 0;
            double sum = 0;
            for (var i = 0; i < planes.Length; i++)
            {
                var best = 0;
                for (var k = 1; k <= PlaneCoder.Planes; k++)
                {
                    if (distortion[(i * 9) + k] + (lambda * bytes[(i * 9) + k]) < distortion[(i * 9) + best] + (lambda * bytes[(i * 9) + best]))
                    {
                        best = k;
                    }
                }

                used += bytes[(i * 9) + best];
                sum += distortion[(i * 9) + best];
                if (keep)
                {
                    planes[i] = best;
                }
            }

            return (used, sum);
        }

        double low = 0, high = 1e12;
        for (var iteration = 0; iteration < 100; iteration++)
        {
            var middle = (low + high) / 2;
            if (At(middle, keep: false).Item1 > budget)
            {
                low = middle;
            }
            else
            {
                high = middle;
            }
        }

        return At(high, keep: true);
    }

    /// <summary>Codes every kept sample's planes again and checks that the segment decodes to the codes' top bits.</summary>
    private static void Verify(ImageDataset source, byte[] codes, PlaneProbabilities model, int[] planes)
    {
        var pixels = source.PixelsPerSample;
        var buffer = new byte[(pixels * 11) + 64];
        for (var i = 0; i < planes.Length; i++)
        {
            if (planes[i] == 0)
            {
                continue;
            }

            var u = Codes(codes, i, pixels);
            var encoder = new BinaryRangeEncoder(buffer);
            for (var k = 1; k <= planes[i]; k++)
            {
                PlaneCoder.EncodePlane(ref encoder, u, source.Channels, source.Height, source.Width, PlaneCoder.Planes - k, model);
            }

            Check(source, buffer.AsSpan(0, encoder.Finish()), u, planes[i], model, i);
        }
    }

    private static void Check(ImageDataset source, ReadOnlySpan<byte> segment, ReadOnlySpan<byte> codes, int planes, PlaneProbabilities model, int sample)
    {
        Span<byte> decoded = new byte[codes.Length];
        var decoder = new BinaryRangeDecoder(segment);
        for (var k = 1; k <= planes; k++)
        {
            PlaneCoder.DecodePlane(ref decoder, decoded, source.Channels, source.Height, source.Width, PlaneCoder.Planes - k, model);
        }

        var dropped = PlaneCoder.Planes - planes;
        for (var p = 0; p < codes.Length; p++)
        {
            if (decoded[p] != (codes[p] >> dropped) << dropped)
            {
                throw new InvalidOperationException($"Sample {sample}: pixel {p} decoded as {decoded[p]}, coded {codes[p]} at {planes} planes.");
            }
        }
    }

    private static void Write(ImageDataset source, PlaneGrid[] grids, byte[] codes, int[] planes, string prefix)
    {
        var pixels = source.PixelsPerSample;
        var kept = planes.Count(k => k > 0);
        using var images = NpyWriter.Create(prefix + "-x.npy", NpyDType.UInt8, kept, source.Channels, source.Height, source.Width);
        var labels = new long[kept];
        var sources = new long[kept];
        var image = new byte[pixels];
        for (int i = 0, j = 0; i < planes.Length; i++)
        {
            if (planes[i] == 0)
            {
                continue;
            }

            var u = Codes(codes, i, pixels);
            for (var p = 0; p < pixels; p++)
            {
                image[p] = (byte)Math.Round(grids[i].Reconstruct(u[p], planes[i]));
            }

            images.Append(image);
            sources[j] = i;
            labels[j++] = source.Label(i);
        }

        images.Commit();
        NpyWriter.Write(prefix + "-y.npy", labels, kept);
        NpyWriter.Write(prefix + "-source.npy", sources, kept);
    }

    private static int VarintLength(int value) => value < 1 << 7 ? 1 : value < 1 << 14 ? 2 : value < 1 << 21 ? 3 : 4;

    public static string Format(EntropyPlaneReport report)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"{report.Name}: {report.Samples} samples of {report.PixelsPerSample} pixels; all 8 planes {report.LosslessBitsPerPixel:F3} bpp; model {report.ModelBytes} B; a sample's segment {report.FlushBytesPerSegment:F2} B over its ideal code length (median)");
        text.AppendLine("| bpp | budget bytes | refitted MSE | kept | entropy-coded planes MSE | kept | bytes used | planes / refitted | one segment per plane | ÷ bytes used |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in report.Rows)
        {
            text.AppendLine(inv, $"| {r.BitsPerPixel} | {r.BudgetBytes:N0} | {r.Refitted:F2} | {r.RefittedKept:N0} | {r.Planes:F2} | {r.PlanesKept:N0} | {r.PlanesBytes:N0} | {r.Planes / r.Refitted:F3} | {r.PlaneSegmentBytes:N0} | {r.PlaneSegmentBytes / (double)r.PlanesBytes:F3} |");
        }

        return text.ToString();
    }
}
