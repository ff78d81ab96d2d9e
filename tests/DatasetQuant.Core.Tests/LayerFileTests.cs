using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>Layer files on their own: every version reads back what was written, and a damaged one is refused by name.</summary>
public sealed class LayerFileTests
{
    private const string Name = "damaged-L00003.dql";

    private const int Pixels = 10;

    private static LayerHeader Header(int classCount = 10) =>
        new(1, 2, 5, classCount, 1000, 3, 40, 0, [0.25f], [0.5f]);

    private static LayerIncrement Increment(int sample, byte from, byte to, int label = 0, float scale8 = 0.125f, int shift = 0)
    {
        var planes = new byte[SampleQuantizer.PackedBytes(Pixels, to - from)];
        for (var b = 0; b < planes.Length; b++)
        {
            planes[b] = (byte)((sample * 31) + (b * 7) + from);
        }

        return new LayerIncrement(sample, from, to, from == 0 ? label : 0, from == 0 ? scale8 : 0f, from == 0 ? shift : 0, planes)
        {
            // Version 3's pair at the `to` width: the grid's, perturbed per entry so that a mix-up between entries shows.
            Reconstruction = new QuantizationParameters(scale8 * (1 << (8 - to)) * (1 + (sample % 3 / 8f)), shift - sample % 5),
        };
    }

    /// <summary>Unsorted samples, a sample raised twice in one layer, a gap of more than one varint byte.</summary>
    private static LayerIncrement[] Increments(float scale8 = 0.125f) =>
    [
        Increment(700, 0, 2, 9, scale8, -3),
        Increment(5, 2, 3),
        Increment(700, 2, 5),
        Increment(0, 0, 1, 1, scale8 * 2, 4),
        Increment(999, 4, 8),
        Increment(5, 3, 4),
    ];

    private static void AssertSame(IReadOnlyList<LayerIncrement> expected, IReadOnlyList<LayerIncrement> actual, int major)
    {
        Assert.Equal(expected.Count, actual.Count);
        var bySample = expected.Select((e, i) => (e, i)).OrderBy(p => p.e.Sample).ThenBy(p => p.i).Select(p => p.e).ToList();
        var wanted = actual.Select(a => a.Sample).SequenceEqual(expected.Select(e => e.Sample)) ? expected : bySample;
        for (var k = 0; k < wanted.Count; k++)
        {
            var (e, a) = (wanted[k], actual[k]);
            Assert.Equal((e.Sample, e.From, e.To, e.Label), (a.Sample, a.From, a.To, a.Label));
            Assert.Equal(major == 3 ? (0f, 0, e.Reconstruction) : (e.Scale8, e.Shift, null), (a.Scale8, a.Shift, a.Reconstruction));
            Assert.Equal(e.Planes.ToArray(), a.Planes.ToArray());
        }
    }

    [Theory]
    [InlineData(10, 0.125f)]
    [InlineData(300, 0.125f)]
    [InlineData(10, 0.1f)]
    public void Version_3_reads_back_every_entrys_reconstruction_and_keeps_each_samples_increments_in_order(int classCount, float scale8)
    {
        var increments = Increments(scale8);
        var header = Header(classCount) with { IncrementCount = increments.Length };
        var bytes = LayerFile.Encode(header, increments);
        Assert.Equal("DQL3"u8.ToArray(), bytes[..4]);
        var (read, entries) = LayerFile.Decode(bytes, Name);
        Assert.Equal((header.LayerIndex, header.FirstIncrement, header.IncrementCount, header.ClassCount), (read.LayerIndex, read.FirstIncrement, read.IncrementCount, read.ClassCount));
        Assert.Equal([.. increments.Select(i => i.Sample).Order()], entries.Select(i => i.Sample));
        AssertSame(increments, entries, 3);
        // Three bytes per entry more than version 2, less s₈'s three per new sample; a float32 scale costs two more each.
        var newSamples = increments.Count(i => i.From == 0);
        var version2 = LayerFile.Encode(header, increments, versionMajor: 2);
        Assert.Equal(version2.Length + (3 * (increments.Length - newSamples)) + (DqsScale.IsExact(scale8) ? 0 : 2 * (increments.Length - newSamples)), bytes.Length);
        Assert.Throws<ArgumentException>(() => LayerFile.Encode(header, [increments[0] with { Reconstruction = null }]));
    }

    [Theory]
    [InlineData(10, 0.125f)]
    [InlineData(300, 0.125f)]
    [InlineData(10, 0.1f)]
    public void Version_2_is_still_read_and_keeps_each_samples_increments_in_order(int classCount, float scale8)
    {
        var increments = Increments(scale8);
        var header = Header(classCount) with { IncrementCount = increments.Length };
        var bytes = LayerFile.Encode(header, increments, versionMajor: 2);
        Assert.Equal("DQL2"u8.ToArray(), bytes[..4]);
        var entries = LayerFile.Decode(bytes, Name).Increments;
        Assert.Equal([.. increments.Select(i => i.Sample).Order()], entries.Select(i => i.Sample));
        AssertSame(increments, entries, 2);
        Assert.True(bytes.Length < LayerFile.Encode(header, increments, versionMajor: 1).Length);
    }

    [Fact]
    public void Version_1_is_still_read()
    {
        var increments = Increments();
        var bytes = LayerFile.Encode(Header() with { IncrementCount = increments.Length }, increments, versionMajor: 1);
        Assert.Equal("DQL1"u8.ToArray(), bytes[..4]);
        AssertSame(increments, LayerFile.Decode(bytes, Name).Increments, 1);
    }

    [Fact]
    public void An_unknown_version_is_refused_with_the_file_named()
    {
        var bytes = LayerFile.Encode(Header() with { IncrementCount = 1 }, [Increment(1, 0, 2)]);
        bytes[3] = (byte)'6';
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 6);
        var error = Assert.Throws<DqsFormatException>(() => LayerFile.Decode(WithChecksum(bytes), Name));
        Assert.Contains(Name, error.Message, StringComparison.Ordinal);
        Assert.Contains("layer version 6 is not supported", error.Message, StringComparison.Ordinal);
    }

    /// <summary>A valid header (as a version 3 writer makes it, binary16 scales) followed by <paramref name="entries"/>, with its checksum.</summary>
    private static byte[] Forged(int count, params byte[] entries)
    {
        var valid = LayerFile.Encode(Header() with { IncrementCount = 0 }, []);
        var headerBytes = valid[..^4];
        BinaryPrimitives.WriteInt32LittleEndian(headerBytes.AsSpan(32), count);
        return WithChecksum([.. headerBytes, .. entries, 0, 0, 0, 0]);
    }

    private static byte[] WithChecksum(byte[] bytes)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(0, bytes.Length - 4)));
        return bytes;
    }

    public static TheoryData<int, byte[], string> DamagedEntries => new()
    {
        { 1, [0x80], "varint" },
        { 1, [0x80, 0x80, 0x80], "varint" },
        { 1, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0x12, 0x00], "varint" },
        { 1, [0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x12, 0x00], "varint" },
        { 1, [0xE8, 0x07, 0x12, 0x00], "out of range" },
        { 1, [0x05, 0x31, 0x00, 0x00], "out of range" },
        { 1, [0x05], "runs past" },
        { 1, [0x05, 0x02, 0x00], "runs past" },
        { 1, [0x05, 0x12], "runs past" },
        { 1, [0x05, 0x12, 0x00, 0x3C], "runs past" },
        { 1, [0x05, 0x12, 0x00, 0x00, 0x00, 0x00, 0x00], "scale 0" },
        { int.MaxValue, [0x05, 0x12, 0x00, 0x3C, 0x00, 0x00, 0x00], "runs past" },
        { 1, [0x05, 0x12, 0x00, 0x3C, 0x00, 0x00, 0x00, 0x09], "follow the last increment" },
    };

    [Theory]
    [MemberData(nameof(DamagedEntries))]
    public void Truncated_or_garbled_entries_are_refused_with_the_file_named(int count, byte[] entries, string reason)
    {
        var error = Assert.Throws<DqsFormatException>(() => LayerFile.Decode(Forged(count, entries), Name));
        Assert.Contains(Name, error.Message, StringComparison.Ordinal);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Random_edits_under_a_recomputed_checksum_are_refused_naming_the_file_never_crashing()
    {
        var good = LayerFile.Encode(Header() with { IncrementCount = Increments().Length }, Increments());
        var random = new Random(3);
        var refused = 0;
        for (var trial = 0; trial < 500; trial++)
        {
            try
            {
                LayerFile.Decode(WithChecksum([.. ByteEdits.Garble(random, good.AsSpan(0, good.Length - 4), from: 4), 0, 0, 0, 0]), Name);
            }
            catch (DqsFormatException ex)
            {
                Assert.Contains(Name, ex.Message, StringComparison.Ordinal);
                refused++;
            }
        }

        Assert.True(refused > 350, $"{refused} of 500 garbled layers refused");
    }
}
