using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Progressive;

/// <summary>
/// A layer as published: its file, its size, the increments it covers, and <see cref="HeldBytesAfter"/>, the bytes a
/// device holds once it has applied this layer and every one before it (its .dqs shard plus its held order).
/// </summary>
public sealed record LayerInfo(string Path, long Bytes, int FirstIncrement, int IncrementCount, long HeldBytesAfter);

/// <summary>
/// The coordinator's side of progressive delivery: cuts a dataset's embedded increment order into layers, each ending at
/// the first increment that lifts the held size <c>growth</c> above the previous layer's (the first reaching at least
/// <c>minimumBytes</c>, none but the last under <see cref="MinimumLayerBytes"/>), so that a device whose budget falls
/// anywhere leaves about that fraction of it unspent; and also just below each held size it is told to cut at (the
/// budgets the fleet's devices have), so that those devices leave nothing unspent. A layer ended at a cut may be
/// smaller, and the growth steps resume from it. The shards must hold embedded
/// codes at least as wide as the order's last increment of each sample (<c>dq quantize --codes embedded --budget 8bpp</c>),
/// or planes that many (<c>--codes planes</c>, layer version 5, or 4 for protocol version 5: <see cref="BuildPlanes"/>).
/// <para>
/// Each entry carries the sample's reconstruction at its `to` width (layer version 3): the pair
/// <see cref="SampleQuantizer.Requantize"/> gives the published record shrunk to that width. It is made from the
/// published shard rather than carried from the quantizer's per-width fits because then nothing but the shards is
/// published, and a device holding a prefix holds byte for byte what <c>dq requantize</c> of the published shard to the
/// same widths writes (a fit on the original pixels would be slightly closer to them, and match no copy a device or
/// coordinator can make).
/// </para>
/// </summary>
public static partial class LayerBuilder
{
    /// <param name="cutAtHeldBytes">
    /// Held sizes where a layer must end, such as the budgets the fleet's devices have: a layer ends before the first
    /// increment that would take the held bytes above each, so a device with that budget holds the order's longest
    /// prefix that fits it rather than the last growth step below it.
    /// </param>
    /// <param name="heldVersion">The held-increments version devices write (<see cref="HeldIncrements.NumberedVersion"/>), which the held sizes count.</param>
    /// <param name="versionMajor">The layout of a fixed-width set's layers (1–3).</param>
    /// <param name="planesVersion">The layout of a planes set's layers (4 or 5).</param>
    public static IReadOnlyList<LayerInfo> Build(IReadOnlyList<string> shardPaths, IncrementOrder order, string outputDirectory, string prefix,
        long minimumBytes = 16 * 1024, double growth = DefaultGrowth, CancellationToken cancellationToken = default, int versionMajor = LayerFile.VersionMajor,
        IEnumerable<long>? cutAtHeldBytes = null, int heldVersion = HeldIncrements.LatestVersion, int planesVersion = LayerFile.DirectoryPlanesVersion)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumBytes);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(growth);
        var cuts = new SortedSet<long>(cutAtHeldBytes ?? []);
        using var set = DqsShardSet.Open(shardPaths);
        var h = set.Header;
        var pixels = h.PixelsPerSample;
        if (set.SourceCount != order.SampleCount || set.Count != order.SampleCount || order.PixelsPerSample != pixels)
        {
            throw new ArgumentException($"the order covers {order.SampleCount} samples of {order.PixelsPerSample} pixels; the shards store {set.Count} of {set.SourceCount} samples of {pixels}: publish from a set that keeps every sample.");
        }

        Directory.CreateDirectory(outputDirectory);
        if (h.IsPlanes)
        {
            return LayerFile.IsPlanes(planesVersion)
                ? BuildPlanes(set, order, outputDirectory, prefix, minimumBytes, growth, cuts, heldVersion, planesVersion, cancellationToken)
                : throw new ArgumentOutOfRangeException(nameof(planesVersion), planesVersion, "a planes set's layers are version 4 or 5.");
        }

        var header = new LayerHeader(h.Channels, h.Height, h.Width, h.ClassCount, order.SampleCount, 0, 0, 0, [.. h.ChannelMean], [.. h.ChannelStandardDeviation]);
        var widths = new byte[order.SampleCount];
        var codes = new byte[pixels];
        var planes = new byte[pixels];
        var shrunk = new byte[pixels];
        var mean = h.ChannelMean.ToArray();
        var plane = h.Height * h.Width;
        var layers = new List<LayerInfo>();
        var pending = new List<LayerIncrement>();
        var stored = 0;
        long payload = 0;
        var first = 0;
        // The device writes its shard as 2.0 when binary16 holds every scale (a set quantized by this version), else 1.1.
        var layout = set.Shards.Select(DqsShardRewriter.LayoutBound).MinBy(l => l.VersionMajor);
        // What the device's held increments will take, built as the device builds them.
        var heldIncrements = new HeldIncrements(order.SampleCount, pixels) { NumberedVersion = heldVersion };
        long HeldBytes() => layout.Overhead(stored) + payload + heldIncrements.FileBytes;
        var lastHeld = 0L;
        var pendingBytes = 0L;
        for (var k = 0; k < order.Increments.Count; k++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (sample, to) = order.Increments[k];
            var from = widths[sample];
            var (shard, index) = set.Locate(sample);
            var record = shard.Record(index);
            if (to > record.Bits)
            {
                throw new ArgumentException($"increment {k} lifts sample {sample} to {to} bits; its shard holds {record.Bits}.");
            }

            // A cut point between the held bytes before and after this increment ends the layer before it.
            var held = HeldBytes();
            if (pending.Count > 0 && cuts.Count > 0)
            {
                var after = layout.Overhead(stored + (from == 0 ? 1 : 0)) + payload + SampleQuantizer.PackedBytes(pixels, to)
                    - SampleQuantizer.PackedBytes(pixels, from) + heldIncrements.FileBytesWith(sample, to, layers.Count);
                if (after > held && cuts.GetViewBetween(held, after - 1).Count > 0)
                {
                    EndLayer(k, held);
                }
            }

            shard.ReadCodes(index, codes);
            var d = to - from;
            for (var p = 0; p < pixels; p++)
            {
                planes[p] = (byte)((codes[p] >> (record.Bits - to)) & ((1 << d) - 1));
            }

            var packed = new byte[SampleQuantizer.PackedBytes(pixels, d)];
            DqsBitPacking.Pack(planes, d, packed);
            // Versions 1 and 2 carry the grid's s₈ (a record whose scale follows the grid); version 3 the width's own pair.
            var scale8 = record.Scale / (1 << (SampleQuantizer.MaxBits - record.Bits));
            pending.Add(new LayerIncrement(sample, from, to, record.Label, scale8, record.Shift, packed)
            {
                Reconstruction = versionMajor >= 3 ? SampleQuantizer.Requantize(codes, record.Bits, to, record.Parameters, mean, plane, shrunk) : null,
            });
            stored += from == 0 ? 1 : 0;
            payload += SampleQuantizer.PackedBytes(pixels, to) - SampleQuantizer.PackedBytes(pixels, from);
            widths[sample] = to;
            heldIncrements.Add(sample, to, layers.Count);
            held = HeldBytes();
            pendingBytes += LayerFile.EntrySize(h.ClassCount, pixels, from, to, versionMajor);
            // A layer also ends no smaller than MinimumLayerBytes (pendingBytes never exceeds its entries' bytes), so
            // that its fixed 40 + 8·C bytes (and a chunk frame's) stay small beside it on tiny images.
            if (k + 1 == order.Increments.Count || (held >= Math.Max(minimumBytes, lastHeld * (1 + growth)) && pendingBytes >= MinimumLayerBytes))
            {
                EndLayer(k + 1, held);
            }
        }

        return layers;

        // Writes the pending increments, which end before increment `next`, as the next layer.
        void EndLayer(int next, long held)
        {
            WriteLayer(outputDirectory, prefix, header, first, pending, held, versionMajor, layers);
            (first, lastHeld) = (next, held);
            pendingBytes = 0;
        }
    }

    /// <summary>Writes <paramref name="pending"/>, which start at increment <paramref name="first"/>, as the next of <paramref name="layers"/>, and empties it.</summary>
    private static void WriteLayer(string outputDirectory, string prefix, LayerHeader header, int first, List<LayerIncrement> pending, long held,
        int versionMajor, List<LayerInfo> layers)
    {
        if (layers.Count == HeldIncrements.MaxLayers)
        {
            throw new InvalidOperationException($"more than {HeldIncrements.MaxLayers} layers: raise the growth or the first layer's size.");
        }

        var path = Path.Combine(outputDirectory, FileName(prefix, layers.Count));
        var bytes = LayerFile.Encode(header with { LayerIndex = layers.Count, FirstIncrement = first, IncrementCount = pending.Count }, pending, versionMajor);
        AtomicFile.WriteAllBytes(path, bytes);
        layers.Add(new LayerInfo(path, bytes.Length, first, pending.Count, held));
        pending.Clear();
    }

    /// <summary>
    /// How much each layer lifts the held bytes. A device leaves up to this fraction of its budget unspent, which near
    /// a budget that holds every sample at 1 bit is samples left out, while every layer adds its header to what devices
    /// receive and a line to the signed manifest. Against 2 %, 1 % cut the held copy's excess MSE at 1 bpp on Fashion-MNIST
    /// test by a third, for about twice the layers (docs/results.md, "Layers by 1 %").
    /// </summary>
    public const double DefaultGrowth = 0.01;

    /// <summary>The smallest layer file but the last.</summary>
    public const int MinimumLayerBytes = 1024;

    public static string FileName(string prefix, int layer) => $"{prefix}-L{layer:D5}{LayerFile.FileExtension}";

    /// <summary>How many of <paramref name="layers"/> a device whose budget is <paramref name="budgetBytes"/> holds: the longest prefix that fits.</summary>
    public static int LayersWithin(IReadOnlyList<LayerInfo> layers, long budgetBytes)
    {
        var count = 0;
        while (count < layers.Count && layers[count].HeldBytesAfter <= budgetBytes)
        {
            count++;
        }

        return count;
    }
}
