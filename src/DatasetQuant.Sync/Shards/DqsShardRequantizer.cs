using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Sync.Device;

namespace DatasetQuant.Sync.Shards;

/// <summary>
/// Shrinks a .dqs shard to a byte count from its codes alone (<see cref="DqsShardRewriter"/>): widths are
/// capped at the largest C for which the file fits, then as many samples as still fit (in index order) keep C + 1.
/// When even 1 bit for every sample is too much, samples are dropped evenly across the shard (b = 0, pruning).
/// Lowering the widest samples first bounds the worst per-sample error. Core's <c>Requantizer</c> can instead measure
/// each sample's distortion from its codes and allocate adaptively over a whole shard set; this per-shard plan fits
/// the device's byte target for one file exactly.
/// </summary>
public sealed class DqsShardRequantizer : IShardRequantizer
{
    public long Requantize(string sourcePath, string destinationPath, long maxBytes)
    {
        using var reader = DqsReader.Open(sourcePath);
        var count = reader.Count;
        var pixels = reader.PixelsPerSample;
        var widths = new int[count];
        for (var i = 0; i < count; i++)
        {
            widths[i] = reader.Bits(i);
        }

        var keep = PlanWidths(widths, pixels, DqsShardRewriter.LayoutBound(reader), maxBytes)
            ?? throw new InvalidDataException($"{sourcePath}: even an empty shard does not fit in {maxBytes} bytes.");
        DqsShardRewriter.Write(reader, Array.ConvertAll(keep, b => (byte)b), destinationPath);
        return new FileInfo(destinationPath).Length;
    }

    /// <summary>New widths (0 = dropped) whose shard fits <paramref name="maxBytes"/>, never above the old ones; null if nothing fits.</summary>
    internal static int[]? PlanWidths(int[] widths, int pixels, DqsIndexLayout layout, long maxBytes)
    {
        var count = widths.Length;
        long Overhead(int samples) => layout.Overhead(samples);
        long Payload(int cap)
        {
            long total = 0;
            foreach (var b in widths)
            {
                total += SampleQuantizer.PackedBytes(pixels, Math.Min(b, cap));
            }

            return total;
        }

        for (var cap = SampleQuantizer.MaxBits; cap >= 1; cap--)
        {
            var size = Overhead(count) + Payload(cap);
            if (size > maxBytes)
            {
                continue;
            }

            var plan = new int[count];
            for (var i = 0; i < count; i++)
            {
                plan[i] = Math.Min(widths[i], cap);
            }

            // Spend what is left on one more bit for as many samples as it pays for.
            for (var i = 0; i < count && cap < SampleQuantizer.MaxBits; i++)
            {
                if (widths[i] > cap)
                {
                    var extra = SampleQuantizer.PackedBytes(pixels, cap + 1) - SampleQuantizer.PackedBytes(pixels, cap);
                    if (size + extra <= maxBytes)
                    {
                        plan[i] = cap + 1;
                        size += extra;
                    }
                }
            }

            return plan;
        }

        // Not even 1 bit each: keep k samples at 1 bit, spread evenly.
        // Whole index bytes per sample, and the rest of the index set aside as if every sample stayed.
        var perSample = layout.WholeBytesPerSample + SampleQuantizer.PackedBytes(pixels, 1);
        var room = maxBytes - layout.SetAside(count, 1);
        if (room < 0)
        {
            return null;
        }

        var keep = (int)Math.Min(count, room / perSample);
        var dropped = new int[count];
        for (var k = 0; k < keep; k++)
        {
            dropped[(int)((long)k * count / keep)] = 1;
        }

        return dropped;
    }
}
