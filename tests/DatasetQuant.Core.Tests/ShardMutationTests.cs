using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Mutants of real shards (2.0 and 1.1; every width; embedded codes; range-coded planes; three channels and two-byte labels), half of them
/// with every checksum recomputed, read as a consumer reads them: open, every sample's record and label, the float
/// decode on [0, 1] and standardised with the header's statistics, the uint8 decode, the raw codes, then
/// <see cref="DqsVerifier"/>. Each must read or throw <see cref="DqsFormatException"/> naming the file and a field (or
/// sample), within a bounded allocation and time; what reads must decode finite values in range, and, under the
/// original checksums, exactly what the original decodes to.
/// </summary>
public sealed class ShardMutationTests : IDisposable
{
    private const int MutantsPerShard = 1000;

    private readonly TempDirectory _dir = new("dqs-mutants");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string> Shards => ["small 2.0", "small 1.1", "grey device 2.0", "grey device 1.1", "colour full 2.0", "grey planes", "colour planes"];

    private byte[] Original(string shard)
    {
        switch (shard)
        {
            case "small 2.0":
                return Samples.SmallShard(_dir, 2);
            case "small 1.1":
                return Samples.SmallShard(_dir, 1);
            case "colour full 2.0":
                return MutationCorpus.Colour.FullShard;
            case "grey planes":
                return File.ReadAllBytes(Planes.PlaneShardTests.Quantize(Samples.FashionMnistTest.Take(96), _dir.File("grey-planes"), "3bpp").ShardPaths.Single());
            case "colour planes":
                var colour = Samples.ThreeChannels(Samples.FashionMnistTest.Take(40), classCount: 300);
                return File.ReadAllBytes(Planes.PlaneShardTests.Quantize(colour, _dir.File("colour-planes"), "2bpp").ShardPaths.Single());
            default:
                var device = MutationCorpus.Grey.DeviceAfterLayers[3].Shard;
                if (shard.EndsWith("2.0", StringComparison.Ordinal))
                {
                    return device;
                }

                var path = _dir.File("device-as-1.1.dqs");
                File.WriteAllBytes(path, device);
                Samples.CopyAsVersion1(path);
                return File.ReadAllBytes(path);
        }
    }

    [Theory]
    [MemberData(nameof(Shards))]
    public void Every_mutant_reads_consistently_or_is_refused_naming_the_file_and_field(string shard)
    {
        var original = Original(shard);
        var expected = DecodeAll(original);
        var path = _dir.File("mutant.dqs");
        var reads = new MutantReads($".dqs {shard}");
        var values = new float[expected[0].Length];
        var standardised = new float[values.Length];
        var bytes = new byte[values.Length];
        var hot = HotPrefixes(original);
        foreach (var mutant in ByteMutations.Series(seed: shard.Length * 7919, MutantsPerShard, original, hot, ShardResealer.Reseal))
        {
            File.WriteAllBytes(path, mutant.Bytes);
            reads.Run(mutant, () =>
            {
                using (var reader = DqsReader.Open(path))
                {
                    var normalization = DqsNormalization.Unit(reader.Header.Channels);
                    var fromHeader = DqsNormalization.FromHeader(reader.Header);
                    for (var i = 0; i < reader.Count; i++)
                    {
                        _ = (reader.IsPlanes ? reader.Planes(i) : reader.Record(i).Bits, reader.Label(i));
                        reader.Decode(i, values.AsSpan(0, reader.PixelsPerSample), normalization);
                        CheckDecoded(reads, mutant, i, values.AsSpan(0, reader.PixelsPerSample), reader.Count == expected.Length && !mutant.Resealed ? expected[i] : null);
                        reader.Decode(i, standardised.AsSpan(0, reader.PixelsPerSample), fromHeader);
                        if (!AllFinite(standardised.AsSpan(0, reader.PixelsPerSample)))
                        {
                            reads.Fail(mutant, $"sample {i} decodes (standardised) to a value that is not finite.");
                        }

                        reader.Decode(i, bytes.AsSpan(0, reader.PixelsPerSample));
                        CheckAgreement(reads, mutant, i, values.AsSpan(0, reader.PixelsPerSample), bytes.AsSpan(0, reader.PixelsPerSample));
                        if (reader.IsPlanes)
                        {
                            reader.ReadPlaneCodes(i, bytes);
                        }
                        else
                        {
                            reader.ReadCodes(i, bytes);
                        }
                    }
                }

                _ = DqsVerifier.Verify(path);
            }, error => NamesFileAndField(error, path), maxAllocatedBytes: (1 << 20) + (4L * original.Length));
        }

        reads.AssertClean(least: 20);
    }

    [Fact]
    public void A_file_shorter_than_its_header_describes_names_its_length_as_the_field()
    {
        // Found by the mutants: a truncation was the one refusal that named no field.
        var path = _dir.File("short.dqs");
        File.WriteAllBytes(path, Samples.SmallShard(_dir)[..^3]);
        var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(path));
        Assert.Equal("file.length", error.Field);
        Assert.StartsWith($"{path}: file.length: truncated: ", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    // Found by the mutants: a channel std of a few ulps above 0 (u32 1, or its high bytes cleared) passed the header's
    // (0, 255] and made the standardised decode infinite, or DqsNormalization.FromHeader throw. Writers floor it at 0.001.
    [InlineData(1e-45f, false)]
    [InlineData(1e-30f, false)]
    [InlineData(0.00099f, false)]
    [InlineData(0.001f, true)]
    public void A_channel_std_below_the_writers_floor_is_refused_and_one_at_it_decodes_finite(float std, bool reads)
    {
        var bytes = Samples.SmallShard(_dir);
        BitConverter.TryWriteBytes(bytes.AsSpan(64 + 4), std);
        var path = _dir.File("std.dqs");
        File.WriteAllBytes(path, ShardResealer.Reseal(bytes));
        if (!reads)
        {
            Assert.Equal("header.channel[0].std", Assert.Throws<DqsFormatException>(() => DqsReader.Open(path)).Field);
            return;
        }

        using var reader = DqsReader.Open(path);
        var values = new float[reader.PixelsPerSample];
        for (var i = 0; i < reader.Count; i++)
        {
            reader.Decode(i, values, DqsNormalization.FromHeader(reader.Header));
            Assert.True(AllFinite(values), $"sample {i}");
        }
    }

    [Theory]
    // Found while writing these tests: a 1.x float32 scale near float32's largest passed "finite and > 0", and the
    // float decode then gave 0 where x̂ (and the uint8 decode) is 255; format.md §4.1 now bounds it by binary16's largest.
    [InlineData(3e38f, false)]
    [InlineData(1e5f, false)]
    [InlineData(65504f, true)]
    public void A_version_1_scale_beyond_binary16s_range_is_refused_and_one_within_decodes_as_x_hat(float scale, bool reads)
    {
        var bytes = Samples.SmallShard(_dir, 1);
        BitConverter.TryWriteBytes(bytes.AsSpan(DqsConstants.HeaderSize(1) + 16 + 4), scale);
        var path = _dir.File("scale.dqs");
        File.WriteAllBytes(path, ShardResealer.Reseal(bytes));
        if (!reads)
        {
            var error = Assert.Throws<DqsFormatException>(() => DqsReader.Open(path));
            Assert.Equal(("index.scale", 1), (error.Field, error.Sample));
            return;
        }

        using var reader = DqsReader.Open(path);
        var (unit, rounded) = (new float[reader.PixelsPerSample], new byte[reader.PixelsPerSample]);
        reader.Decode(1, unit, DqsNormalization.Unit(1));
        reader.Decode(1, rounded);
        Assert.Equal(rounded.Select(b => (int)b), unit.Select(u => (int)MathF.Round(u * 255f)));
    }

    [Fact]
    public void A_payload_longer_than_2_to_the_32_is_refused_by_its_header_field()
    {
        // format.md §3 bounds payloadLength by 2^32 − 1 (offsets are 32-bit); the reader did not, so a header describing
        // 256 samples of 4096×4096 at 8 bits was refused only by the file's length, and a file that long would have
        // wrapped its offsets.
        var bytes = Samples.SmallShard(_dir, 1);
        BitConverter.TryWriteBytes(bytes.AsSpan(18), (ushort)4096);
        BitConverter.TryWriteBytes(bytes.AsSpan(20), (ushort)4096);
        BitConverter.TryWriteBytes(bytes.AsSpan(28), 256);
        BitConverter.TryWriteBytes(bytes.AsSpan(48), 256);
        BitConverter.TryWriteBytes(bytes.AsSpan(56), 1UL << 32);
        var path = _dir.File("long.dqs");
        File.WriteAllBytes(path, ShardResealer.Reseal(bytes));
        Assert.Equal("header.payloadLength", Assert.Throws<DqsFormatException>(() => DqsReader.Open(path)).Field);
    }

    /// <summary>The reader's own error, naming the file it was given and the field or sample at fault.</summary>
    internal static bool NamesFileAndField(Exception error, string path) =>
        error is DqsFormatException format && format.FilePath == path && format.Message.Contains(path, StringComparison.Ordinal)
        && (!string.IsNullOrEmpty(format.Field) || format.Sample is not null);

    /// <summary>Decoded on [0, 1]: finite and in range; under the original checksums, the original's values exactly.</summary>
    private static void CheckDecoded(MutantReads reads, Mutant mutant, int sample, ReadOnlySpan<float> values, float[]? expected)
    {
        foreach (var value in values)
        {
            if (!(value >= 0f && value <= 1f + 1e-6f))
            {
                reads.Fail(mutant, $"sample {sample} decodes to {value}, outside [0, 1].");
                return;
            }
        }

        if (expected is not null && !values.SequenceEqual(expected))
        {
            reads.Fail(mutant, $"sample {sample} decodes to other values than the original under the original checksums.");
        }
    }

    /// <summary>The float decode is x̂/255 and the uint8 decode x̂ rounded (§6): they differ by at most half a level.</summary>
    private static void CheckAgreement(MutantReads reads, Mutant mutant, int sample, ReadOnlySpan<float> unit, ReadOnlySpan<byte> rounded)
    {
        for (var p = 0; p < unit.Length; p++)
        {
            if (Math.Abs((unit[p] * 255f) - rounded[p]) > 0.501f)
            {
                reads.Fail(mutant, $"sample {sample} pixel {p} decodes to {unit[p] * 255f} as float and {rounded[p]} as uint8.");
                return;
            }
        }
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (var value in values)
        {
            if (!float.IsFinite(value))
            {
                return false;
            }
        }

        return true;
    }

    private static float[][] DecodeAll(byte[] shard)
    {
        using var reader = DqsReader.Open(shard, "original.dqs");
        var values = new float[reader.Count][];
        for (var i = 0; i < reader.Count; i++)
        {
            values[i] = new float[reader.PixelsPerSample];
            reader.Decode(i, values[i], DqsNormalization.Unit(reader.Header.Channels));
        }

        Assert.True(reader.Count > 30, $"{reader.Count} samples");
        return values;
    }

    /// <summary>The header, and the header and index: where two edits in three go.</summary>
    private static int[] HotPrefixes(byte[] shard)
    {
        using var reader = DqsReader.Open(shard, "original.dqs");
        return [reader.Header.HeaderSize, (int)reader.Header.PayloadOffset];
    }
}
