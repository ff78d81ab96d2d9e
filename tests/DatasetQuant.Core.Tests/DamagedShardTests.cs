using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// The damaged-shard corpus: every header, index and footer byte flipped, random payload flips, truncation at every 1/64,
/// wrong magic and version, offsets and sizes that lie (with their checksums recomputed so only the field checks can
/// catch them). The reader must return the right data or throw <see cref="DqsFormatException"/>; verify must notice
/// every flipped byte. Run on a version 2.0 shard (what writers write) and on a 1.1 shard (what readers still read).
/// </summary>
public sealed class DamagedShardTests() : DamagedShardCorpus(2);

public sealed class DamagedVersion1ShardTests() : DamagedShardCorpus(1);

public abstract class DamagedShardCorpus : IDisposable
{
    private readonly TempDirectory _dir = new("dqs-damage");
    private readonly byte[] _original;
    private readonly string _path;
    private readonly float[][] _decoded;
    private readonly int _headerSize;
    private readonly int _count;
    private readonly int _payloadOffset;
    private readonly int _indexLength;
    private readonly int _versionMajor;
    private readonly int _checksumBlock;

    protected DamagedShardCorpus(int versionMajor)
    {
        _versionMajor = versionMajor;
        _original = Samples.SmallShard(_dir, versionMajor);
        _path = _dir.File("damaged.dqs");
        File.WriteAllBytes(_path, _original);
        using var reader = DqsReader.Open(_path);
        _headerSize = reader.Header.HeaderSize;
        _count = reader.Count;
        _payloadOffset = (int)reader.Header.PayloadOffset;
        _indexLength = (int)reader.Header.IndexLength;
        _checksumBlock = reader.Header.Layout.ChecksumBlock;
        Assert.Equal(versionMajor, reader.Header.VersionMajor);
        _decoded = new float[_count][];
        for (var i = 0; i < _count; i++)
        {
            _decoded[i] = new float[784];
            reader.Decode(i, _decoded[i], DqsNormalization.Unit(1));
        }
    }

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_corpus_shard_holds_every_width()
    {
        using var reader = DqsReader.Open(_path);
        Assert.Equal(Enumerable.Range(1, 8), Enumerable.Range(0, reader.Count).Select(reader.Bits).Distinct().Order());
        Assert.True(_original.Length < 40_000);
    }

    [Fact]
    public void Every_flipped_header_index_and_footer_byte_is_refused_on_open()
    {
        var positions = Enumerable.Range(0, _payloadOffset).Concat(Enumerable.Range(_original.Length - DqsConstants.FooterSize, DqsConstants.FooterSize));
        foreach (var position in positions)
        {
            var damaged = (byte[])_original.Clone();
            damaged[position] ^= 0x5A;
            File.WriteAllBytes(_path, damaged);

            var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path).Dispose());
            Assert.Contains("damaged.dqs", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_detects_every_single_flipped_byte()
    {
        var missed = new List<int>();
        var damaged = (byte[])_original.Clone();
        for (var position = 0; position < _original.Length; position++)
        {
            damaged[position] ^= (byte)(1 << (position % 8));
            if (DqsVerifier.Verify(damaged, "damaged.dqs").IsValid)
            {
                missed.Add(position);
            }

            damaged[position] = _original[position];
        }

        Assert.Empty(missed);
        File.WriteAllBytes(_path, _original);
        Assert.True(DqsVerifier.Verify(_path).IsValid);
        Assert.True(DqsVerifier.Verify(_original, "clean.dqs").IsValid);
    }

    [Fact]
    public void A_flipped_payload_byte_fails_only_the_samples_its_checksum_covers()
    {
        // 1.x: a checksum per sample; 2.0: per block of samples, so the whole block fails and no other sample.
        var random = new Random(11);
        using var clean = DqsReader.Open(_dir.File("small-00000.dqs"));
        for (var trial = 0; trial < 200; trial++)
        {
            var position = random.Next(_payloadOffset, _original.Length - DqsConstants.FooterSize);
            var damaged = (byte[])_original.Clone();
            damaged[position] ^= (byte)random.Next(1, 256);
            File.WriteAllBytes(_path, damaged);
            var owner = Enumerable.Range(0, _count).Last(i => _payloadOffset + clean.Record(i).Offset <= position);

            using var reader = DqsReader.Open(_path);
            var values = new float[784];
            for (var i = 0; i < _count; i++)
            {
                if (i / _checksumBlock == owner / _checksumBlock)
                {
                    var error = Assert.Throws<DqsFormatException>(() => reader.Decode(i, values, DqsNormalization.Unit(1)));
                    Assert.Equal(i, error.Sample);
                }
                else
                {
                    reader.Decode(i, values, DqsNormalization.Unit(1));
                    Assert.Equal(_decoded[i], values);
                }
            }

            var verification = DqsVerifier.Verify(_path);
            Assert.Contains(verification.Problems, p => p.Contains($"sample {owner}", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Truncation_at_every_64th_is_refused()
    {
        for (var k = 0; k < 64; k++)
        {
            File.WriteAllBytes(_path, _original[..(int)((long)_original.Length * k / 64)]);

            var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path).Dispose());
            Assert.Contains("damaged.dqs", error.Message, StringComparison.Ordinal);
            Assert.False(DqsVerifier.Verify(_path).IsValid);
        }
    }

    [Fact]
    public void Wrong_magic_and_version_are_named()
    {
        var damaged = (byte[])_original.Clone();
        "PK\u0003\u0004"u8.CopyTo(damaged);
        File.WriteAllBytes(_path, damaged);
        Assert.Contains("header.magic", Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path)).Message, StringComparison.Ordinal);

        damaged = (byte[])_original.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(damaged.AsSpan(4), 3);
        Reseal(damaged);
        File.WriteAllBytes(_path, damaged);
        var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path)).Message;
        Assert.Contains("damaged.dqs", error, StringComparison.Ordinal);
        Assert.Contains("header.versionMajor", error, StringComparison.Ordinal);
        Assert.Contains($"version 3.{BinaryPrimitives.ReadUInt16LittleEndian(_original.AsSpan(6))} is not supported", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sampleCount", 28, 0x7FFF_FFFF)]
    [InlineData("sampleCount", 28, 3)]
    [InlineData("payloadLength", 56, 1L << 40)]
    [InlineData("payloadLength", 56, 100)]
    [InlineData("sourceCount", 48, 1)]
    [InlineData("channels", 16, 3)]
    [InlineData("height", 18, 0)]
    [InlineData("classCount", 24, 0)]
    public void Header_fields_that_lie_are_refused_even_with_a_valid_checksum(string field, int offset, long value)
    {
        var damaged = (byte[])_original.Clone();
        if (offset == 56)
        {
            BinaryPrimitives.WriteInt64LittleEndian(damaged.AsSpan(offset), value);
        }
        else if (offset is 16 or 18)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(damaged.AsSpan(offset), (ushort)value);
        }
        else
        {
            BinaryPrimitives.WriteUInt32LittleEndian(damaged.AsSpan(offset), (uint)value);
        }

        Reseal(damaged);
        File.WriteAllBytes(_path, damaged);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < _original.Length, $"{field}: the reader allocated more than the file");
        Assert.Contains("damaged.dqs", error.Message, StringComparison.Ordinal);
        _ = field;
    }

    [Fact]
    public void The_minor_version_is_read_from_the_file_and_an_older_one_still_opens()
    {
        using (var reader = DqsReader.Open(_path))
        {
            Assert.Equal((_versionMajor, _versionMajor == 1 ? (int)DqsConstants.Version1Minor : DqsConstants.VersionMinor), (reader.Header.VersionMajor, reader.Header.VersionMinor));
        }

        var older = (byte[])_original.Clone();
        BinaryPrimitives.WriteUInt16LittleEndian(older.AsSpan(6), 0);
        Reseal(older);
        File.WriteAllBytes(_path, older);
        using var olderReader = DqsReader.Open(_path);
        Assert.Equal(0, olderReader.Header.VersionMinor);
        Assert.Equal(_count, olderReader.Count);
    }

    [Theory]
    [InlineData("offset", 12345u)]
    [InlineData("bits", 9u)]
    [InlineData("bits", 0u)]
    [InlineData("bits", 7u)]
    [InlineData("label", 10u)]
    [InlineData("scale", 0u)]
    public void Index_records_that_lie_are_refused_even_with_a_valid_checksum(string field, uint value)
    {
        var damaged = (byte[])_original.Clone();
        const int sample = 5;
        if (_versionMajor == 1)
        {
            var record = _headerSize + (sample * DqsConstants.Version1RecordSize);
            switch (field)
            {
                case "offset":
                    BinaryPrimitives.WriteUInt32LittleEndian(damaged.AsSpan(record), value);
                    break;
                case "scale":
                    BinaryPrimitives.WriteSingleLittleEndian(damaged.AsSpan(record + 4), value);
                    break;
                case "label":
                    BinaryPrimitives.WriteUInt16LittleEndian(damaged.AsSpan(record + 8), (ushort)value);
                    break;
                default:
                    damaged[record + 10] = (byte)value;
                    break;
            }
        }
        else if (field == "offset")
        {
            // 2.0 stores no offsets: they follow from the widths, whose lies the other rows cover.
            return;
        }
        else
        {
            var stored = _count;
            var widths = _headerSize + (stored * 4);
            switch (field)
            {
                case "scale":
                    BinaryPrimitives.WriteHalfLittleEndian(damaged.AsSpan(_headerSize + stored + (sample * 2)), (Half)value);
                    break;
                case "label":
                    damaged[_headerSize + sample] = (byte)value;
                    break;
                default:
                    damaged[widths + (sample / 2)] = (byte)((damaged[widths + (sample / 2)] & 0xF0) | (int)value);
                    break;
            }
        }

        Reseal(damaged);
        File.WriteAllBytes(_path, damaged);

        var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(_path));
        Assert.Contains("damaged.dqs", error.Message, StringComparison.Ordinal);
        // A wrong width shows as that record's width or as the next record's offset, which no longer follows.
        Assert.True(error.Message.Contains($"index.{field}", StringComparison.Ordinal) || error.Message.Contains("index.offset", StringComparison.Ordinal)
            || error.Message.Contains("payloadLength", StringComparison.Ordinal), error.Message);
    }

    [Fact]
    public void Random_damage_yields_correct_data_or_the_format_exception_and_nothing_else()
    {
        var random = new Random(2024);
        var values = new float[784];
        for (var trial = 0; trial < 400; trial++)
        {
            var damaged = (byte[])_original.Clone();
            var flips = random.Next(1, 6);
            for (var f = 0; f < flips; f++)
            {
                damaged[random.Next(damaged.Length)] = (byte)random.Next(256);
            }

            if (random.Next(4) == 0)
            {
                damaged = damaged[..random.Next(damaged.Length)];
            }

            File.WriteAllBytes(_path, damaged);
            var before = GC.GetAllocatedBytesForCurrentThread();
            try
            {
                using var reader = DqsReader.Open(_path);
                for (var i = 0; i < reader.Count; i++)
                {
                    try
                    {
                        reader.Decode(i, values, DqsNormalization.Unit(1));
                        Assert.Equal(_decoded[i], values);
                    }
                    catch (DqsFormatException)
                    {
                    }
                }
            }
            catch (DqsFormatException)
            {
            }

            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < damaged.Length + 65536, $"trial {trial} allocated more than the file");
        }
    }

    /// <summary>Recomputes every checksum at the original layout's positions, so only field checks can catch a lie.</summary>
    private void Reseal(byte[] file)
    {
        var headerCrc = Crc32C.Compute(file.AsSpan(0, _headerSize - 4));
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(_headerSize - 4), headerCrc);
        var indexLength = _indexLength;
        BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(_headerSize + indexLength), Crc32C.Compute(file.AsSpan(_headerSize, indexLength)));
        var footer = file.AsSpan(file.Length - DqsConstants.FooterSize);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[16..], headerCrc);
        BinaryPrimitives.WriteUInt32LittleEndian(footer[20..], Crc32C.Compute(footer[..20]));
    }
}
