using System.Globalization;
using System.Text;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Training.Experiments;

/// <summary>One budget of <see cref="EmbeddedCodeExperiment"/>: Σ pixel MSE / N of each way to spend it.</summary>
public sealed record EmbeddedCodeRow(double BitsPerPixel, long BudgetBytes, double Refitted, double Embedded, double Prefix, long PrefixBytes);

/// <summary>
/// What embedded codes cost: at each budget, the adaptive allocation over per-width refitted quantizers (what
/// <c>dq quantize</c> writes by default), the same allocator over embedded codes, and the longest prefix of the embedded
/// increment order that fits (what a device holding a prefix has). Distortion is the pixel MSE on the 0–255 scale
/// averaged over every sample, dropped ones counted as the mean image; no training.
/// </summary>
public static class EmbeddedCodeExperiment
{
    public static IReadOnlyList<EmbeddedCodeRow> Run(ISampleSource source, IReadOnlyList<double> budgets, bool classCoverage)
    {
        var statistics = ChannelStatistics.Compute(source);
        var refitted = DistortionTable.Measure(source, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default);
        var embedded = DistortionTable.Measure(source, statistics, PixelMseDistortion.Instance, 6, Environment.ProcessorCount, null, default, embeddedCodes: true);
        var n = source.Count;
        var pixels = source.Channels * source.Height * source.Width;
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            labels[i] = source.Label(i);
        }

        var coverage = classCoverage ? ClassTypicality.Measure(source, labels) : ReadOnlyMemory<double>.Empty;
        var order = AdaptiveAllocator.Order(new AllocationProblem(n, pixels, 0) { Distortion = embedded.Distortion });
        var rows = new List<EmbeddedCodeRow>();
        var bits = new byte[n];
        foreach (var bpp in budgets)
        {
            var budgetBytes = Budget.FromBitsPerPixel(bpp).PayloadBytes(n, pixels);
            double Allocate(DistortionTable table)
            {
                new AdaptiveAllocator().Allocate(new AllocationProblem(n, pixels, budgetBytes)
                {
                    Distortion = table.Distortion,
                    Labels = classCoverage ? labels : ReadOnlyMemory<int>.Empty,
                    CoverageScore = coverage,
                }, bits);
                return table.MeanSquaredError(bits);
            }

            var refit = Allocate(refitted);
            var embed = Allocate(embedded);
            order.WidthsWithin(budgetBytes, b => SampleQuantizer.PackedBytes(pixels, b), bits);
            long prefixBytes = 0;
            foreach (var b in bits)
            {
                prefixBytes += SampleQuantizer.PackedBytes(pixels, b);
            }

            rows.Add(new EmbeddedCodeRow(bpp, budgetBytes, refit, embed, embedded.MeanSquaredError(bits), prefixBytes));
        }

        return rows;
    }

    public static string Format(string name, IReadOnlyList<EmbeddedCodeRow> rows)
    {
        var inv = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(inv, $"{name}");
        text.AppendLine("| bpp | budget bytes | refitted MSE | embedded MSE | embedded / refitted | order-prefix MSE | prefix bytes | prefix / refitted |");
        text.AppendLine("|---:|---:|---:|---:|---:|---:|---:|---:|");
        foreach (var r in rows)
        {
            text.AppendLine(inv, $"| {r.BitsPerPixel} | {r.BudgetBytes:N0} | {r.Refitted:F2} | {r.Embedded:F2} | {r.Embedded / r.Refitted:F3} | {r.Prefix:F2} | {r.PrefixBytes:N0} | {r.Prefix / r.Refitted:F3} |");
        }

        return text.ToString();
    }

    /// <summary>
    /// Area-averaged downsampling to <paramref name="side"/>×<paramref name="side"/> (each output pixel the mean of the
    /// input area it covers, fractional edges weighted), for small-image checks derived from larger sets.
    /// </summary>
    public static ImageDataset Downsample(ImageDataset source, int side, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        count = Math.Min(count, source.Count);
        var plane = side * side;
        var pixels = new byte[count * source.Channels * plane];
        var labels = new int[count];
        double sy = (double)source.Height / side, sx = (double)source.Width / side;
        for (var i = 0; i < count; i++)
        {
            labels[i] = source.Label(i);
            var input = source.Pixels(i);
            for (var c = 0; c < source.Channels; c++)
            {
                for (var oy = 0; oy < side; oy++)
                {
                    for (var ox = 0; ox < side; ox++)
                    {
                        double sum = 0, weight = 0;
                        for (var y = (int)(oy * sy); y < Math.Min(source.Height, (int)Math.Ceiling((oy + 1) * sy)); y++)
                        {
                            var wy = Math.Min(y + 1, (oy + 1) * sy) - Math.Max(y, oy * sy);
                            for (var x = (int)(ox * sx); x < Math.Min(source.Width, (int)Math.Ceiling((ox + 1) * sx)); x++)
                            {
                                var wx = Math.Min(x + 1, (ox + 1) * sx) - Math.Max(x, ox * sx);
                                sum += wy * wx * input[(c * source.Height * source.Width) + (y * source.Width) + x];
                                weight += wy * wx;
                            }
                        }

                        pixels[(i * source.Channels * plane) + (c * plane) + (oy * side) + ox] = (byte)Math.Round(sum / weight);
                    }
                }
            }
        }

        return new ImageDataset($"{source.Name}-{side}x{side}", source.Channels, side, side, source.ClassCount, pixels, labels);
    }
}
