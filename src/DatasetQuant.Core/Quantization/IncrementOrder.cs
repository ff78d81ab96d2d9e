using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Quantization;

/// <summary>One step of the greedy allocation: <see cref="Sample"/> (source index) goes up to <see cref="Width"/> bits.</summary>
public readonly record struct Increment(int Sample, byte Width);

/// <summary>
/// The adaptive allocator's increments in the order its greedy took them with an unbounded budget
/// (<see cref="AdaptiveAllocator.Order"/>). The greedy is nested: a larger budget only adds increments, so the allocation
/// for any budget is the longest prefix that fits. With embedded codes (<see cref="EmbeddedCode"/>) every increment is a
/// sample's next bit planes, so a device holding a prefix grows by the next increments and shrinks by forgetting the last
/// ones. Stored beside the shards as <c>{prefix}.dqo</c> (docs/format.md §12).
/// </summary>
public sealed class IncrementOrder
{
    public const string FileExtension = ".dqo";

    private static ReadOnlySpan<byte> Magic => "DQO1"u8;

    private const int HeaderSize = 20;

    private const int EntrySize = 5;

    public IncrementOrder(int sampleCount, int pixelsPerSample, IReadOnlyList<Increment> increments)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(sampleCount);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pixelsPerSample);
        // Only the samples the increments name: §12 bounds K by 8·N but not N by K, so a sample count read from a file
        // (a damaged one, say) sizes nothing here.
        var widths = new Dictionary<int, byte>(Math.Min(sampleCount, increments.Count));
        for (var k = 0; k < increments.Count; k++)
        {
            var (sample, width) = increments[k];
            if ((uint)sample >= (uint)sampleCount || width > SampleQuantizer.MaxBits || width <= widths.GetValueOrDefault(sample))
            {
                throw new ArgumentException($"increment {k} ({sample} → {width} bits) does not raise a sample of 0..{sampleCount - 1} within 1..8 bits.", nameof(increments));
            }

            widths[sample] = width;
        }

        (SampleCount, PixelsPerSample, Increments) = (sampleCount, pixelsPerSample, increments);
    }

    public int SampleCount { get; }

    public int PixelsPerSample { get; }

    public IReadOnlyList<Increment> Increments { get; }

    /// <summary>
    /// The widths after the longest prefix whose cost fits <paramref name="budgetBytes"/>; returns the prefix length.
    /// <paramref name="bytesAt"/> gives a sample's bytes at a width (0 at width 0), the same for every sample.
    /// </summary>
    public int WidthsWithin(long budgetBytes, Func<int, long> bytesAt, Span<byte> widths) =>
        WidthsWithin(budgetBytes, (_, width) => bytesAt(width), widths);

    /// <summary>
    /// The same, where <paramref name="bytesAt"/>(sample, width) gives what that sample costs at that width (0 at width
    /// 0; <see cref="AllocationProblem.BytesAt"/> for a problem with per-sample costs): each increment is charged its own
    /// sample's step.
    /// </summary>
    public int WidthsWithin(long budgetBytes, Func<int, int, long> bytesAt, Span<byte> widths)
    {
        ArgumentNullException.ThrowIfNull(bytesAt);
        ArgumentOutOfRangeException.ThrowIfLessThan(widths.Length, SampleCount, nameof(widths));
        widths[..SampleCount].Clear();
        long used = 0;
        for (var k = 0; k < Increments.Count; k++)
        {
            var (sample, width) = Increments[k];
            var cost = bytesAt(sample, width) - bytesAt(sample, widths[sample]);
            if (used + cost > budgetBytes)
            {
                return k;
            }

            used += cost;
            widths[sample] = width;
        }

        return Increments.Count;
    }

    /// <summary>The widths after the first <paramref name="count"/> increments.</summary>
    public void WidthsAfter(int count, Span<byte> widths)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, Increments.Count);
        widths[..SampleCount].Clear();
        for (var k = 0; k < count; k++)
        {
            widths[Increments[k].Sample] = Increments[k].Width;
        }
    }

    /// <summary>Writes the order atomically (temp file, fsync, rename, fsync of the folder).</summary>
    public void Write(string path)
    {
        var bytes = new byte[HeaderSize + (EntrySize * Increments.Count) + 4];
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 1);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), 0);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), SampleCount);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), PixelsPerSample);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16), Increments.Count);
        for (var k = 0; k < Increments.Count; k++)
        {
            var entry = bytes.AsSpan(HeaderSize + (EntrySize * k), EntrySize);
            BinaryPrimitives.WriteInt32LittleEndian(entry, Increments[k].Sample);
            entry[4] = Increments[k].Width;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        AtomicFile.WriteAllBytes(path, bytes);
    }

    /// <summary>Reads an order file; a defect is a <see cref="DqsFormatException"/> naming the file and the field.</summary>
    public static IncrementOrder Read(string path)
    {
        var length = new FileInfo(path).Length;
        if (length < HeaderSize + 4 || length > Array.MaxLength)
        {
            throw new DqsFormatException(path, "length", null, $"{length} bytes is not an increment order file.");
        }

        var bytes = File.ReadAllBytes(path);
        if (!bytes.AsSpan(0, 4).SequenceEqual(Magic))
        {
            throw new DqsFormatException(path, "magic", null, "not an increment order file (magic is not DQO1).");
        }

        var major = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4));
        if (major != 1)
        {
            throw new DqsFormatException(path, "versionMajor", null, $"increment order version {major} is not supported (this reader knows 1).");
        }

        var stored = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4));
        if (Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)) != stored)
        {
            throw new DqsFormatException(path, "checksum", null, "the increment order's CRC32C does not match its bytes.");
        }

        var samples = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        var pixels = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        var count = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16));
        if (samples < 0)
        {
            throw new DqsFormatException(path, "sampleCount", null, $"{samples} is negative.");
        }

        if (pixels <= 0)
        {
            throw new DqsFormatException(path, "pixelsPerSample", null, $"{pixels} is not positive.");
        }

        if (count < 0 || (long)count > (long)samples * SampleQuantizer.MaxBits || bytes.Length != HeaderSize + ((long)EntrySize * count) + 4)
        {
            throw new DqsFormatException(path, "incrementCount", null, $"{count} increments of {samples} samples do not fill {bytes.Length} bytes (at most 8 per sample).");
        }

        var increments = new Increment[count];
        for (var k = 0; k < count; k++)
        {
            var entry = bytes.AsSpan(HeaderSize + (EntrySize * k), EntrySize);
            increments[k] = new Increment(BinaryPrimitives.ReadInt32LittleEndian(entry), entry[4]);
        }

        try
        {
            return new IncrementOrder(samples, pixels, increments);
        }
        catch (ArgumentException ex)
        {
            throw new DqsFormatException(path, "increments", null, ex.Message);
        }
    }

    public static string FileName(string prefix) => prefix + FileExtension;
}
