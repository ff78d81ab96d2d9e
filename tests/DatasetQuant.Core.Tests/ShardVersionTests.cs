using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>Versions 1.0, 1.1 and 2.0 side by side: the same samples decode the same, and what each index costs.</summary>
public sealed class ShardVersionTests : IDisposable
{
    private readonly TempDirectory _dir = new("dqs-versions");

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_version_1_copy_decodes_exactly_as_the_version_2_shard()
    {
        Samples.SmallShard(_dir);
        var current = _dir.File("small-00000.dqs");
        var older = _dir.File("older.dqs");
        File.Copy(current, older);
        Samples.CopyAsVersion1(older);

        using var v2 = DqsReader.Open(current);
        using var v1 = DqsReader.Open(older);
        Assert.Equal((2, 0), (v2.Header.VersionMajor, v2.Header.VersionMinor));
        Assert.Equal((1, 1), (v1.Header.VersionMajor, v1.Header.VersionMinor));
        Assert.Equal(v2.Count, v1.Count);
        Assert.Equal(v2.Header.PayloadLength, v1.Header.PayloadLength);
        // 2.0: 4 bytes of columns, a width nibble and 4/64 of a block checksum per sample; 1.x: 16 bytes per sample.
        Assert.Equal((v2.Count * 4) + (v2.Count / 2) + 4 + 4, v2.IndexBytes);
        Assert.Equal((v1.Count * 16) + 4, v1.IndexBytes);
        var a = new float[784];
        var b = new float[784];
        var bytesA = new byte[784];
        var bytesB = new byte[784];
        for (var i = 0; i < v2.Count; i++)
        {
            Assert.Equal(v2.Record(i), v1.Record(i));
            v2.Decode(i, a, DqsNormalization.FromHeader(v2.Header));
            v1.Decode(i, b, DqsNormalization.FromHeader(v1.Header));
            Assert.Equal(a, b);
            v2.Decode(i, bytesA);
            v1.Decode(i, bytesB);
            Assert.Equal(bytesA, bytesB);
        }

        Assert.True(DqsVerifier.Verify(older).IsValid);
    }

    [Fact]
    public void A_version_1_0_file_with_its_reserved_bytes_zero_opens()
    {
        Samples.SmallShard(_dir, versionMajor: 1);
        var path = _dir.File("small-00000.dqs");
        var bytes = File.ReadAllBytes(path);
        using (var reader = DqsReader.Open(path))
        {
            // 1.0 has no shifts: zero them (the decode changes, the file stays valid once resealed).
            for (var i = 0; i < reader.Count; i++)
            {
                bytes[reader.Header.HeaderSize + (i * 16) + 11] = 0;
            }

            BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), 0);
            var headerSize = reader.Header.HeaderSize;
            var headerCrc = Crc32C.Compute(bytes.AsSpan(0, headerSize - 4));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(headerSize - 4), headerCrc);
            var indexLength = reader.Count * 16;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(headerSize + indexLength), Crc32C.Compute(bytes.AsSpan(headerSize, indexLength)));
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 8), headerCrc);
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(bytes.Length - 4), Crc32C.Compute(bytes.AsSpan(bytes.Length - 24, 20)));
        }

        File.WriteAllBytes(path, bytes);
        using var old = DqsReader.Open(path);
        Assert.Equal((1, 0), (old.Header.VersionMajor, old.Header.VersionMinor));
        Assert.All(Enumerable.Range(0, old.Count), i => Assert.Equal(0, old.Record(i).Shift));
        Assert.True(DqsVerifier.Verify(path).IsValid);
    }

    [Fact]
    public void The_decoders_binary16_conversion_is_exact_for_every_value()
    {
        for (var bits = 0; bits <= ushort.MaxValue; bits++)
        {
            var expected = (float)BitConverter.UInt16BitsToHalf((ushort)bits);
            var actual = DqsScale.ToSingle((ushort)bits);
            Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(actual) || (float.IsNaN(expected) && float.IsNaN(actual)), $"{bits:X4}: {actual} for {expected}");
        }
    }

    [Fact]
    public void A_version_2_writer_refuses_a_scale_binary16_cannot_hold_and_names_the_file()
    {
        var template = new DqsHeader(1, 28, 28, 10, 1, 0, 1, 0, 1, 0, [72f], [90f]);
        using var writer = new DqsShardWriter(_dir.File("refused.dqs"), template);
        var error = Assert.Throws<ArgumentException>(() => writer.Append(3, 1, new QuantizationParameters(1.00001f, 0), new byte[98]));
        Assert.Contains("refused.dqs", error.Message, StringComparison.Ordinal);
        Assert.Contains("binary16", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Re_quantizing_keeps_a_1_x_shard_with_float32_scales_at_1_1_and_makes_binary16_ones_2_0()
    {
        // A 1.1 shard as an older dq wrote it: scales no binary16 holds.
        var dataset = Samples.FashionMnistTest.Take(20);
        var statistics = ChannelStatistics.Compute(dataset);
        var template = new DqsHeader(1, 28, 28, 10, 20, 0, 1, 0, 20, 0, [.. statistics.Mean], [.. statistics.StandardDeviation]) { VersionMajor = 1 };
        var path = _dir.File("old.dqs");
        var values = new float[784];
        var codes = new byte[784];
        var packed = new byte[784];
        using (var writer = new DqsShardWriter(path, template))
        {
            for (var i = 0; i < 20; i++)
            {
                dataset.ReadPixels(i, values);
                var parameters = new QuantizationParameters(1.0001f + (i * 0.37f), i - 10);
                SampleQuantizer.Quantize(values, statistics.Mean, 784, 4, parameters, codes);
                DqsBitPacking.Pack(codes, 4, packed);
                writer.Append(dataset.Label(i), 4, parameters, packed.AsSpan(0, 392));
            }

            writer.Commit();
        }

        using (var old = DqsReader.Open(path))
        {
            // Samples kept at their width keep their float32 scales; the others' pairs are re-quantized.
            var widths = Enumerable.Range(0, 20).Select(i => (byte)(i % 2 == 0 ? 4 : 2)).ToArray();
            DqsShardRewriter.Write(old, widths, _dir.File("copy.dqs"));
            DqsShardRewriter.Write(old, Enumerable.Repeat((byte)2, 20).ToArray(), _dir.File("all-2.dqs"));
        }

        using var copy = DqsReader.Open(_dir.File("copy.dqs"));
        Assert.Equal(1, copy.Header.VersionMajor);
        Assert.Equal(1.0001f, copy.Record(0).Scale);
        using var all2 = DqsReader.Open(_dir.File("all-2.dqs"));
        var exact = Enumerable.Range(0, 20).All(i => DqsScale.IsExact(all2.Record(i).Scale));
        Assert.Equal(exact ? 2 : 1, all2.Header.VersionMajor);

        Samples.SmallShard(_dir);
        using var current = DqsReader.Open(_dir.File("small-00000.dqs"));
        DqsShardRewriter.Write(current, Enumerable.Range(0, current.Count).Select(i => (byte)Math.Min(current.Bits(i), 1)).ToArray(), _dir.File("small-copy.dqs"));
        using var currentCopy = DqsReader.Open(_dir.File("small-copy.dqs"));
        Assert.Equal(2, currentCopy.Header.VersionMajor);
    }
}
