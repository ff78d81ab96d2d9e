using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Mutants of real layers (<c>.dql</c> versions 1, 2 and 3, docs/format.md §13, as <c>dq-coordinator publish</c> cuts
/// them; a grey set and a colour one with two-byte labels), half with the trailing CRC32C recomputed, applied as a
/// device applies them: the first layer to an empty copy, or the next layer to a copy holding the ones before it.
/// Each must apply or be refused with a <see cref="DqsFormatException"/> naming the layer and a field, allocating a
/// bounded amount; a copy a mutant applied to must then open again (its held increments agree with its shard) and
/// decode every sample to finite values in range.
/// </summary>
public sealed class LayerFileMutationTests : IDisposable
{
    private const int MutantsPerLayer = 250;

    private readonly TempDirectory _dir = new("dql-mutants");

    public void Dispose() => _dir.Dispose();

    public static TheoryData<string, int, bool> Layers()
    {
        var data = new TheoryData<string, int, bool>();
        foreach (var set in new[] { "grey", "colour" })
        {
            foreach (var version in new[] { 1, 2, 3, LayerFile.PlanesVersion, LayerFile.DirectoryPlanesVersion })
            {
                data.Add(set, version, false);
                data.Add(set, version, true);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Layers))]
    public void Every_mutant_applies_to_a_copy_that_reads_or_is_refused_naming_the_layer_and_field(string set, int version, bool next)
    {
        var corpus = MutationCorpus.Sets.Single(s => s.Name == set);
        var held = corpus.DeviceAfterLayers[version];
        var original = corpus.Layers[version][next ? held.Layers : 0];
        var device = _dir.File("device");
        var path = _dir.File($"mutant-L{(next ? held.Layers : 0):D5}.dql");
        var reads = new MutantReads($".dql {set} version {version} layer {(next ? "after the held ones" : "0")}");
        // The fixed header (36 bytes), then the channel table and the first entries.
        int[] hot = [36, 36 + (8 * 3) + 64];
        foreach (var mutant in ByteMutations.Series(seed: (version * 31) + set.Length + (next ? 7 : 0), MutantsPerLayer, original, hot, IncrementOrderMutationTests.ResealTrailingChecksum))
        {
            if (Directory.Exists(device))
            {
                Directory.Delete(device, recursive: true);
            }

            Directory.CreateDirectory(device);
            if (next)
            {
                MutationCorpus.Install(held, device, set);
            }

            File.WriteAllBytes(path, mutant.Bytes);
            reads.Run(mutant, () =>
            {
                var holdings = ProgressiveHoldings.Open(device, set);
                holdings.Apply([File.ReadAllBytes(path)], [path]);
                HeldIncrementsMutationTests.Then(reads, mutant, "the copy reopened", () => CheckCopy(reads, mutant, device, set));
            }, error => ShardMutationTests.NamesFileAndField(error, path), maxAllocatedBytes: (8 << 20) + (16L * original.Length) + Version1Bitmap(mutant.Bytes));
        }

        reads.AssertClean(least: 3);
    }

    [Theory]
    // Each header field by its own name: these were all refused as "header".
    [InlineData(8, 0, "channels")]
    [InlineData(10, 0, "height")]
    [InlineData(12, 0, "width")]
    [InlineData(14, 2, "flags")]
    [InlineData(16, 0, "classCount")]
    [InlineData(20, -1, "sampleCount")]
    [InlineData(28, -1, "firstIncrement")]
    [InlineData(32, -1, "incrementCount")]
    public void A_header_field_out_of_range_is_refused_by_its_name(int offset, int value, string field)
    {
        var bytes = (byte[])MutationCorpus.Grey.Layers[3][0].Clone();
        if (offset < 16)
        {
            BinaryPrimitives.WriteInt16LittleEndian(bytes.AsSpan(offset), (short)value);
        }
        else
        {
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), value);
        }

        var path = _dir.File("bad-header-L00000.dql");
        var error = Assert.Throws<DqsFormatException>(() => LayerFile.Decode(IncrementOrderMutationTests.ResealTrailingChecksum(bytes), path));
        Assert.Equal((path, field), (error.FilePath, error.Field));
    }

    [Theory]
    // Found by the mutants: the channel table went unchecked into the device's shard header, which the device then
    // could not open (naming its own shard, not the layer).
    [InlineData(36, float.NaN, "channel[0].mean")]
    [InlineData(36, 256f, "channel[0].mean")]
    [InlineData(40, -0.0014f, "channel[0].std")]
    [InlineData(40, 2.2e-41f, "channel[0].std")]
    public void A_channel_table_outside_a_shard_headers_ranges_is_refused_naming_the_layer(int offset, float value, string field)
    {
        var bytes = (byte[])MutationCorpus.Grey.Layers[3][0].Clone();
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(offset), value);
        var path = _dir.File("bad-table-L00000.dql");
        var error = Assert.Throws<DqsFormatException>(() => LayerFile.Decode(IncrementOrderMutationTests.ResealTrailingChecksum(bytes), path));
        Assert.Equal((path, field), (error.FilePath, error.Field));
    }

    [Theory]
    // Found by the mutants: a first layer claiming 2^30 + 96 or 2^31 − 1 source samples (its checksum recomputed) made
    // an empty copy allocate a byte and a reference per source sample (53 GB, or an OutOfMemoryException), and the copy
    // written then failed to reopen with a NullReferenceException.
    [InlineData((1 << 30) + 96)]
    [InlineData(int.MaxValue)]
    public void A_first_layer_claiming_billions_of_samples_applies_and_reopens_holding_only_what_it_brought(int sampleCount)
    {
        var bytes = (byte[])MutationCorpus.Grey.Layers[3][0].Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(20), sampleCount);
        var path = _dir.File("huge-L00000.dql");
        File.WriteAllBytes(path, IncrementOrderMutationTests.ResealTrailingChecksum(bytes));
        var device = Directory.CreateDirectory(_dir.File("huge")).FullName;

        var before = GC.GetAllocatedBytesForCurrentThread();
        ProgressiveHoldings.Open(device, "grey").Apply([File.ReadAllBytes(path)], [path]);
        var reopened = ProgressiveHoldings.Open(device, "grey");
        reopened.TruncateTo(0);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 8 << 20, $"{GC.GetAllocatedBytesForCurrentThread() - before:N0} bytes allocated");
        Assert.Equal(sampleCount, reopened.Held!.SampleCount);
        using var shard = DqsReader.Open(reopened.ShardPath);
        Assert.Equal((0, sampleCount), (shard.Count, shard.Header.SourceCount));
    }

    [Theory]
    // Found while writing these tests: a version 1 s₈ whose record scale s₈·2^(8−to) overflows float32 passed "finite and
    // > 0", and the device's shard writer then threw an ArgumentException naming the device's shard, not the layer.
    [InlineData(3e38f, false)]
    [InlineData(1e37f, false)]
    [InlineData(0.5f, true)]
    public void A_version_1_scale_whose_record_scale_overflows_is_refused_naming_the_layer(float scale8, bool applies)
    {
        // Layer 0's first entry: sample, from, to (6 bytes), then label (2) and s₈ at 36 + 8·C + 8.
        var bytes = (byte[])MutationCorpus.Grey.Layers[1][0].Clone();
        BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(36 + 8 + 8), scale8);
        var path = _dir.File("scale-L00000.dql");
        File.WriteAllBytes(path, IncrementOrderMutationTests.ResealTrailingChecksum(bytes));
        var holdings = ProgressiveHoldings.Open(Directory.CreateDirectory(_dir.File("scale")).FullName, "grey");
        if (applies)
        {
            holdings.Apply([File.ReadAllBytes(path)], [path]);
            return;
        }

        var error = Assert.Throws<DqsFormatException>(() => holdings.Apply([File.ReadAllBytes(path)], [path]));
        Assert.Equal((path, "increments"), (error.FilePath, error.Field));
    }

    /// <summary>
    /// The bitmap of held increments version 1, a bit per source sample the layer declares (§13): a copy whose samples
    /// the layer raises out of number order writes it, and reads it whole on reopening. What a numbered copy holds
    /// (versions 2 and 3) does not grow with the declared count, which the test below pins.
    /// </summary>
    private static long Version1Bitmap(byte[] layer) =>
        layer.Length >= 24 ? 2 * ((Math.Max(0L, BinaryPrimitives.ReadInt32LittleEndian(layer.AsSpan(20))) + 7) / 8) : 0;

    /// <summary>What a device does next: open its copy (held increments checked against the shard) and decode it.</summary>
    private static void CheckCopy(MutantReads reads, Mutant mutant, string device, string name)
    {
        var reopened = ProgressiveHoldings.Open(device, name);
        using var shard = DqsReader.Open(reopened.ShardPath);
        var values = new float[shard.PixelsPerSample];
        var normalization = DqsNormalization.Unit(shard.Header.Channels);
        for (var i = 0; i < shard.Count; i++)
        {
            shard.Decode(i, values, normalization);
            if (!values.All(v => v is >= 0f and <= 1f))
            {
                reads.Fail(mutant, $"the copy's sample {i} decodes to a value outside [0, 1].");
                return;
            }
        }
    }
}
