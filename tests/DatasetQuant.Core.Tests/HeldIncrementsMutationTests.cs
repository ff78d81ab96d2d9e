using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Mutants of real held increments (<c>.dqh</c>, docs/format.md §13): versions 4, 3 and 2 as a device writes them beside
/// its shard after applying layers, and version 1 (samples raised out of number order), half with the trailing CRC32C
/// recomputed. A device opens its copy (the held increments read against the shard's widths) and shrinks it by a
/// layer; each mutant must allow that or be refused with a <see cref="DqsFormatException"/> naming the held file and a
/// field, allocating a bounded amount. A copy that opened and shrank must open again and decode.
/// </summary>
public sealed class HeldIncrementsMutationTests : IDisposable
{
    private const int MutantsPerFile = 800;

    private readonly TempDirectory _dir = new("dqh-mutants");

    public void Dispose() => _dir.Dispose();

    /// <summary>The 24-byte header, then the first lists.</summary>
    private static readonly int[] HotPrefixes = [24, 64];

    [Theory]
    [InlineData("grey", 4)]
    [InlineData("colour", 4)]
    [InlineData("grey", 3)]
    [InlineData("grey", 2)]
    public void Every_mutant_opens_and_shrinks_a_device_copy_or_is_refused_naming_the_file_and_field(string set, int version)
    {
        var corpus = MutationCorpus.Sets.Single(s => s.Name == set);
        var copy = version switch { 4 => corpus.DeviceAfterLayers[3], 3 => corpus.HeldVersion3, _ => corpus.HeldVersion2 };
        Assert.Equal(version, BitConverter.ToUInt16(copy.Held, 4));
        var device = _dir.File("device");
        var heldPath = Path.Combine(device, set + HeldIncrements.FileExtension);
        var reads = new MutantReads($".dqh {set} version {version}");
        foreach (var mutant in ByteMutations.Series(seed: (version * 101) + set.Length, MutantsPerFile, copy.Held, HotPrefixes, IncrementOrderMutationTests.ResealTrailingChecksum))
        {
            MutationCorpus.Install(copy with { Held = mutant.Bytes }, device, set);
            reads.Run(mutant, () =>
            {
                var holdings = ProgressiveHoldings.Open(device, set);
                Then(reads, mutant, "the copy shrunk by a layer", () =>
                {
                    holdings.TruncateTo(Math.Max(0, holdings.LayerCount - 1));
                    using var shard = DqsReader.Open(ProgressiveHoldings.Open(device, set).ShardPath);
                    var values = new float[shard.PixelsPerSample];
                    for (var i = 0; i < shard.Count; i++)
                    {
                        shard.Decode(i, values, DqsNormalization.Unit(shard.Header.Channels));
                    }
                });
            }, error => ShardMutationTests.NamesFileAndField(error, heldPath), maxAllocatedBytes: (8 << 20) + (16L * (copy.Held.Length + copy.Shard.Length)));
        }

        reads.AssertClean(least: 3);
    }

    [Fact]
    public void Every_mutant_of_version_1_reads_and_truncates_or_is_refused_naming_the_file_and_field()
    {
        // Samples first raised out of number order, so the file is version 1: a bitmap and two bytes per increment.
        var random = new Random(17);
        var held = new HeldIncrements(300, 64);
        var widths = new int[300];
        for (var layer = 0; layer < 8; layer++)
        {
            for (var k = 0; k < 30; k++)
            {
                var sample = random.Next(300);
                if (widths[sample] < SampleQuantizer.MaxBits)
                {
                    widths[sample] = Math.Min(SampleQuantizer.MaxBits, widths[sample] + random.Next(1, 3));
                    held.Add(sample, widths[sample], layer);
                }
            }
        }

        var path = _dir.File("v1.dqh");
        held.Write(path);
        var original = File.ReadAllBytes(path);
        Assert.Equal(1, BitConverter.ToUInt16(original, 4));
        byte[] stored = [.. widths.Where(w => w > 0).Select(w => (byte)w)];
        var reads = new MutantReads(".dqh version 1");
        foreach (var mutant in ByteMutations.Series(seed: 1, MutantsPerFile, original, [24, 24 + 38], IncrementOrderMutationTests.ResealTrailingChecksum))
        {
            File.WriteAllBytes(path, mutant.Bytes);
            reads.Run(mutant, () =>
            {
                var read = HeldIncrements.Read(path, stored, 300, 64);
                Then(reads, mutant, "truncated to half its layers", () =>
                {
                    read.TruncateTo(read.Layers / 2);
                    _ = (read.FileBytes, Enumerable.Range(0, read.SampleCount).Sum(read.WidthOf));
                });
            }, error => ShardMutationTests.NamesFileAndField(error, path), maxAllocatedBytes: (1 << 20) + (64L * original.Length));
        }

        reads.AssertClean(least: 3);
    }

    [Theory]
    // A layer count out of range was refused as incrementCount.
    [InlineData(20, -1, "layers")]
    [InlineData(20, HeldIncrements.MaxLayers + 1, "layers")]
    [InlineData(16, -1, "incrementCount")]
    public void A_header_field_out_of_range_is_refused_by_its_name(int offset, int value, string field)
    {
        var copy = MutationCorpus.Grey.DeviceAfterLayers[3];
        var bytes = (byte[])copy.Held.Clone();
        BitConverter.TryWriteBytes(bytes.AsSpan(offset), value);
        var device = _dir.File("bad-header");
        MutationCorpus.Install(copy with { Held = IncrementOrderMutationTests.ResealTrailingChecksum(bytes) }, device, "grey");
        var error = Assert.Throws<DqsFormatException>(() => ProgressiveHoldings.Open(device, "grey"));
        Assert.Equal((Path.Combine(device, "grey.dqh"), field), (error.FilePath, error.Field));
    }

    /// <summary>What a consumer does with a file that read: any error there is a defect the reader let through.</summary>
    internal static void Then(MutantReads reads, Mutant mutant, string what, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex)
        {
            reads.Fail(mutant, $"read, but {what} failed: {ex.GetType().Name}: {ex.Message}", $"{what}: {ex.GetType().Name}");
        }
    }
}
