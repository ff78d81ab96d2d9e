using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class HeldIncrementsTests
{
    /// <summary>Increments as a device applies them: layer by layer, each (sample, width) raising the sample.</summary>
    private static HeldIncrements Apply(int samples, IEnumerable<(int Layer, int Sample, int Width)> increments)
    {
        var held = new HeldIncrements(samples, 64);
        foreach (var (layer, sample, width) in increments)
        {
            held.Add(sample, width, layer);
        }

        return held;
    }

    /// <summary>Samples 0..m−1 first raised in number order, later increments spread over the layers (as a numbered set gives).</summary>
    private static List<(int Layer, int Sample, int Width)> Numbered(int samples, int layers, int seed)
    {
        var random = new Random(seed);
        var widths = new int[samples];
        var list = new List<(int, int, int)>();
        var next = 0;
        for (var layer = 0; layer < layers; layer++)
        {
            for (var k = 0; k < 40 && next < samples; k++)
            {
                widths[next] = random.Next(1, 3);
                list.Add((layer, next, widths[next]));
                next++;
            }

            for (var k = 0; k < 25 && next > 0; k++)
            {
                var sample = random.Next(next);
                if (widths[sample] < SampleQuantizer.MaxBits)
                {
                    widths[sample] = Math.Min(SampleQuantizer.MaxBits, widths[sample] + random.Next(1, 4));
                    list.Add((layer, sample, widths[sample]));
                }
            }
        }

        return list;
    }

    private static HeldIncrements Read(string path, byte[] storedWidths) => HeldIncrements.Read(path, storedWidths, HeaderSamples(path), 64);

    /// <summary>The sample count the test wrote into the file's header (every file here is of 64-pixel samples).</summary>
    private static int HeaderSamples(string path) => BinaryPrimitives.ReadInt32LittleEndian(File.ReadAllBytes(path).AsSpan(8));

    private static byte[] StoredWidths(HeldIncrements held) =>
        [.. Enumerable.Range(0, held.SampleCount).Select(held.WidthOf).Where(w => w > 0).Select(w => (byte)w)];

    private static void AssertSame(HeldIncrements expected, HeldIncrements actual)
    {
        Assert.Equal((expected.Count, expected.Layers, expected.HeldSamples), (actual.Count, actual.Layers, actual.HeldSamples));
        for (var layers = expected.Layers; layers >= 0; layers -= 7)
        {
            expected.TruncateTo(layers);
            actual.TruncateTo(layers);
            Assert.Equal(Enumerable.Range(0, expected.SampleCount).Select(expected.WidthOf), Enumerable.Range(0, actual.SampleCount).Select(actual.WidthOf));
        }
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Versions_2_to_4_are_written_for_samples_numbered_by_first_increment_and_read_back_the_same_lists(int version)
    {
        using var dir = new TempDirectory();
        var written = Apply(1000, Numbered(1000, 40, seed: 3));
        written.NumberedVersion = version;
        Assert.True(written.NumberedByFirstIncrement);
        var path = Path.Combine(dir.Path, "a.dqh");
        written.Write(path);

        Assert.Equal(version, BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(path).AsSpan(4)));
        Assert.Equal(written.FileBytes, new FileInfo(path).Length);
        Assert.True(written.FileBytes < HeldIncrementsFileBytesVersion1(written) * 0.6, $"{written.FileBytes} bytes");
        var read = Read(path, StoredWidths(written));
        Assert.Equal(version, read.FileVersion);
        AssertSame(written, read);
    }

    [Fact]
    public void Version_3_leaves_out_each_samples_last_width_step_and_stores_the_width_sum_instead()
    {
        using var dir = new TempDirectory();
        // 100 samples raised once to 1 bit in one layer (a set at 1 bpp): version 2 writes 100 one-bit steps.
        var held = Apply(100, Enumerable.Range(0, 100).Select(k => (0, k, 1)));
        var (v2, v3) = (Path.Combine(dir.Path, "v2.dqh"), Path.Combine(dir.Path, "v3.dqh"));
        held.NumberedVersion = 2;
        held.Write(v2);
        held.NumberedVersion = 3;
        held.Write(v3);

        // format.md §13: header 24, the layer's two counts (100, 0) 2, steps ceil(100/8) = 13 or none, width sum 100 in 1, checksum 4.
        Assert.Equal(24 + 2 + 13 + 4, new FileInfo(v2).Length);
        Assert.Equal(24 + 1 + 2 + 4, new FileInfo(v3).Length);
        var widths = Enumerable.Repeat((byte)1, 100).ToArray();
        AssertSame(Read(v2, widths), Read(v3, widths));
    }

    [Theory]
    [InlineData(false, 2)]
    [InlineData(true, 2)]
    [InlineData(false, 3)]
    [InlineData(true, 3)]
    [InlineData(false, 4)]
    [InlineData(true, 4)]
    public void The_size_an_increment_would_give_is_the_size_adding_it_gives(bool outOfOrder, int version)
    {
        var increments = Numbered(300, 12, seed: 9);
        if (outOfOrder)
        {
            // Sample 150's first increment first: from there on the file is version 1.
            var first = increments.FindIndex(i => i.Sample == 150);
            increments.Insert(0, increments[first] with { Layer = 0 });
            increments.RemoveAt(first + 1);
        }

        var held = new HeldIncrements(300, 64) { NumberedVersion = version };
        foreach (var (layer, sample, width) in increments)
        {
            var predicted = held.FileBytesWith(sample, width, layer);
            held.Add(sample, width, layer);
            Assert.Equal(held.FileBytes, predicted);
        }

        Assert.Equal(!outOfOrder, held.NumberedByFirstIncrement);
    }

    [Fact]
    public void Samples_raised_out_of_number_order_fall_back_to_version_1_which_still_reads()
    {
        using var dir = new TempDirectory();
        var increments = Numbered(300, 12, seed: 5);
        // Sample 299 first, then the rest: the first layers no longer follow the numbers.
        var reordered = increments.Where(i => i.Sample == 299).Select(i => i with { Layer = 0 })
            .Concat(increments.Where(i => i.Sample != 299)).ToList();
        var written = Apply(300, reordered);
        Assert.False(written.NumberedByFirstIncrement);
        var path = Path.Combine(dir.Path, "b.dqh");
        written.Write(path);

        Assert.Equal(1, BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(path).AsSpan(4)));
        Assert.Equal(HeldIncrementsFileBytesVersion1(written), new FileInfo(path).Length);
        AssertSame(written, Read(path, StoredWidths(written)));
    }

    [Theory]
    [InlineData(2, "newSamples", "increments")]
    [InlineData(3, "widthSum", "widthSum")]
    [InlineData(4, "widthSum", "widthSum")]
    public void A_file_that_disagrees_with_its_shard_or_is_damaged_is_refused_naming_the_field(int version, string fewerField, string widerField)
    {
        using var dir = new TempDirectory();
        var written = Apply(500, Numbered(500, 20, seed: 7));
        written.NumberedVersion = version;
        var path = Path.Combine(dir.Path, "c.dqh");
        written.Write(path);
        var widths = StoredWidths(written);

        // A shard from another change: one sample fewer, or one sample a bit wider (a layer's later increment).
        var fewer = widths[..^1];
        Assert.Equal(fewerField, Assert.Throws<DqsFormatException>(() => Read(path, fewer)).Field);
        var wider = (byte[])widths.Clone();
        var raised = Array.FindIndex(wider, w => w < 8);
        wider[raised]++;
        Assert.Equal(widerField, Assert.Throws<DqsFormatException>(() => Read(path, wider)).Field);

        var bytes = File.ReadAllBytes(path);
        bytes[30] ^= 0x10;
        File.WriteAllBytes(path, bytes);
        var damaged = Assert.Throws<DqsFormatException>(() => Read(path, widths));
        Assert.Equal("checksum", damaged.Field);
        Assert.Contains("c.dqh", damaged.Message, StringComparison.Ordinal);

        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(4), 5);
        File.WriteAllBytes(path, bytes);
        var unknown = Assert.Throws<DqsFormatException>(() => Read(path, widths));
        Assert.Equal("versionMajor", unknown.Field);
        Assert.Contains("version 5 is not supported", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Padding_bits_that_are_not_zero_and_counts_the_bytes_cannot_hold_are_refused()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "p.dqh");
        var held = Apply(10, [(0, 0, 1), (0, 1, 1)]); // two one-bit steps: six bits of padding in the last byte
        held.NumberedVersion = 2; // the lists as this test writes them below (version 3 would leave both steps out)
        held.Write(path);
        var good = File.ReadAllBytes(path);

        var padded = (byte[])good.Clone();
        padded[^5] |= 0x80;
        Assert.Equal("steps", Assert.Throws<DqsFormatException>(() => Read(Resealed(path, padded), [1, 1])).Field);

        // Layer 0 claiming more later increments than the bytes left could list: refused before anything is sized by it.
        var counts = good[..24].Concat(new byte[] { 2, 0x80, 0x80, 0x80, 0x01, 0, 0, 0, 0 }).ToArray();
        Assert.Equal("laterIncrements", Assert.Throws<DqsFormatException>(() => Read(Resealed(path, counts), [1, 1])).Field);
    }

    /// <summary>Writes <paramref name="body"/> (its last 4 bytes replaced by its CRC32C) to <paramref name="path"/>.</summary>
    private static string Resealed(string path, byte[] body)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(body.AsSpan(body.Length - 4), Crc32C.Compute(body.AsSpan(0, body.Length - 4)));
        File.WriteAllBytes(path, body);
        return path;
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void A_file_whose_checksum_holds_but_whose_lists_are_garbled_is_refused_naming_a_field_never_crashing(int version)
    {
        using var dir = new TempDirectory();
        var written = Apply(400, Numbered(400, 16, seed: 11));
        written.NumberedVersion = version;
        var path = Path.Combine(dir.Path, "d.dqh");
        written.Write(path);
        var good = File.ReadAllBytes(path);
        var widths = StoredWidths(written);
        var random = new Random(5);
        var refused = 0;
        for (var trial = 0; trial < 400; trial++)
        {
            // Bytes after the header changed, lengthened or cut, then the checksum recomputed: only the parser stands guard.
            Resealed(path, ByteEdits.Garble(random, good.AsSpan(0, good.Length - 4), from: 24).Concat(new byte[4]).ToArray());
            try
            {
                Read(path, widths);
            }
            catch (DqsFormatException ex)
            {
                Assert.Contains("d.dqh", ex.Message, StringComparison.Ordinal);
                refused++;
            }
        }

        Assert.True(refused > 300, $"{refused} of 400 garbled files refused");

        // A header that claims another shape is refused before it sizes anything.
        BinaryPrimitives.WriteInt32LittleEndian(good.AsSpan(8), int.MaxValue);
        Resealed(path, good);
        Assert.Equal("sampleCount", Assert.Throws<DqsFormatException>(() => HeldIncrements.Read(path, widths, 400, 64)).Field);
    }

    [Fact]
    public void Version_4_writes_each_samples_steps_and_Rice_coded_layer_gaps_as_format_md_says()
    {
        using var dir = new TempDirectory();
        // Sample 0 rises a bit at a time in layers 0, 2 and 3; sample 1 comes in layer 1 straight to 2 bits.
        var held = Apply(2, [(0, 0, 1), (1, 1, 2), (2, 0, 2), (3, 0, 3)]);
        var path = Path.Combine(dir.Path, "v4.dqh");
        held.Write(path);

        // §13 version 4: width sum 5; new samples per layer 1, 1, 0, 0; Rice parameters per later increment number: the
        // gap 2 costs 3 bits under 0, 1 or 2, the gap 1 costs 2 under 0 or 1, so all are 0 (the smallest on a tie). Bits,
        // LSB first: sample 0 (steps all 1) flag 0, gap 2 as 110, gap 1 as 10; sample 1 flag 1, its step 2 as 1 000.
        byte[] lists = [5, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0b1101_0110, 0b0000_0000];
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(4, BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(4)));
        Assert.Equal(lists, bytes[24..^4]);
        Assert.Equal(held.FileBytes, bytes.Length);
        AssertSame(held, Read(path, [3, 2]));
    }

    [Fact]
    public void Version_4_refuses_a_layer_gap_past_the_last_layer_a_parameter_out_of_range_and_padding_that_is_not_zero()
    {
        using var dir = new TempDirectory();
        var path = Path.Combine(dir.Path, "g.dqh");
        Apply(2, [(0, 0, 1), (1, 1, 2), (2, 0, 2), (3, 0, 3)]).Write(path);
        var good = File.ReadAllBytes(path);
        byte[] widths = [3, 2];

        var gap = (byte[])good.Clone();
        gap[24 + 12] |= 0b0010_0000; // the gap 1 (10) becomes 1111…: past layer 3
        Assert.Equal("gaps", Assert.Throws<DqsFormatException>(() => Read(Resealed(path, gap), widths)).Field);
        var parameter = (byte[])good.Clone();
        parameter[24 + 5] = 13;
        Assert.Equal("parameters", Assert.Throws<DqsFormatException>(() => Read(Resealed(path, parameter), widths)).Field);
        var padded = (byte[])good.Clone();
        padded[^5] |= 0x80;
        Assert.Equal("gaps", Assert.Throws<DqsFormatException>(() => Read(Resealed(path, padded), widths)).Field);
    }

    [Fact]
    public void On_Fashion_MNIST_a_device_at_1_bpp_keeps_under_a_two_hundredth_of_its_bytes_to_shrink_later()
    {
        using var dir = new TempDirectory();
        const int count = 1500;
        var full = DatasetQuantizer.Quantize(Samples.FashionMnistTest.Take(count), new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = Path.Combine(dir.Path, "full"), ShardPrefix = "t", EmbeddedCodes = true,
        });
        var order = IncrementOrder.Read(Path.Combine(dir.Path, "full", "t.dqo"));
        // Numbered by first increment: the order raises samples 0, 1, 2, … from nothing in that sequence.
        var firsts = order.Increments.Where((inc, k) => order.Increments.Take(k).All(o => o.Sample != inc.Sample)).Select(i => i.Sample);
        Assert.Equal(Enumerable.Range(0, count), firsts);
        var layers = LayerBuilder.Build(full.ShardPaths, order, Path.Combine(dir.Path, "layers"), "t", minimumBytes: 8 * 1024);
        var device = ProgressiveHoldings.Open(Path.Combine(dir.Path, "device"), "t");
        Directory.CreateDirectory(device.Directory);
        var at1 = LayerBuilder.LayersWithin(layers, count * 784 / 8);
        var chosen = layers.Take(at1).ToList();
        device.Apply([.. chosen.Select(l => File.ReadAllBytes(l.Path))], [.. chosen.Select(l => l.Path)]);

        var heldFile = new FileInfo(device.HeldPath).Length;
        Assert.True(heldFile * 200 < device.HeldBytes, $"{heldFile} of {device.HeldBytes} bytes");
        Assert.True(HeldIncrementsFileBytesVersion1(device.Held!) > 3 * heldFile, $"version 1 would take {HeldIncrementsFileBytesVersion1(device.Held!)}");

        // Every held sample has one increment at 1 bpp: versions 3 and 4 save its step, a bit each, against version 2 (less
        // the width sum's varint, and in version 4 its seven Rice parameters).
        var held = device.Held!;
        Assert.Equal(held.HeldSamples, held.Count);
        Assert.Equal(4, held.Version);
        held.NumberedVersion = 2;
        Assert.True(held.FileBytes - heldFile >= (held.HeldSamples / 8) - 10, $"{held.HeldSamples} samples: version 2 {held.FileBytes} bytes, version 4 {heldFile}");
    }

    /// <summary>Version 1 size from format.md §13 (header, bitmap, two bytes per increment, checksum), written out here rather than taken from the reader.</summary>
    private static long HeldIncrementsFileBytesVersion1(HeldIncrements held) => 24 + ((held.SampleCount + 7) / 8) + (2L * held.Count) + 4;
}
