using System.Buffers.Binary;
using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>
/// Mutants of real increment orders (<c>.dqo</c>, docs/format.md §12, as <c>dq quantize --codes embedded</c> writes
/// them), half with the trailing CRC32C recomputed. Each must read or be refused with a <see cref="DqsFormatException"/>
/// naming the file and a field, allocating no more than a few times the file; what reads must be an order §12 allows:
/// every sample below N, every width above the sample's previous one and at most 8, at most 8·N increments.
/// </summary>
public sealed class IncrementOrderMutationTests : IDisposable
{
    private const int MutantsPerOrder = 2000;

    private readonly TempDirectory _dir = new("dqo-mutants");

    public void Dispose() => _dir.Dispose();

    /// <summary>Recomputes the trailing CRC32C of every byte before it, as a forger would.</summary>
    internal static byte[] ResealTrailingChecksum(byte[] file)
    {
        if (file.Length >= 4)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(file.AsSpan(file.Length - 4), Crc32C.Compute(file.AsSpan(0, file.Length - 4)));
        }

        return file;
    }

    [Theory]
    [InlineData("grey")]
    [InlineData("colour")]
    public void Every_mutant_reads_as_a_valid_order_or_is_refused_naming_the_file_and_field(string set)
    {
        var original = MutationCorpus.Sets.Single(s => s.Name == set).Order;
        var path = _dir.File("mutant.dqo");
        var reads = new MutantReads($".dqo {set}");
        // The header (20 bytes) and the first increments.
        int[] hot = [20, 120];
        foreach (var mutant in ByteMutations.Series(seed: 1200 + set.Length, MutantsPerOrder, original, hot, ResealTrailingChecksum))
        {
            File.WriteAllBytes(path, mutant.Bytes);
            reads.Run(mutant, () =>
            {
                var order = IncrementOrder.Read(path);
                var widths = new Dictionary<int, byte>();
                foreach (var (sample, width) in order.Increments)
                {
                    if ((uint)sample >= (uint)order.SampleCount || width > 8 || width <= widths.GetValueOrDefault(sample))
                    {
                        reads.Fail(mutant, $"the order read raises sample {sample} to {width} bits, which §12 forbids.");
                    }

                    widths[sample] = width;
                }
            }, error => ShardMutationTests.NamesFileAndField(error, path), maxAllocatedBytes: (1 << 16) + (16L * original.Length));
        }

        reads.AssertClean(least: 5);
    }

    [Fact]
    public void A_large_sample_count_under_a_valid_checksum_reads_without_a_buffer_of_that_size()
    {
        // Found by the mutants: sampleCount set to 2^31 − 1 (and the checksum recomputed) made the reader size an array
        // by it before anything vouched for it. The order stays valid (§12 bounds only K ≤ 8·N), so it reads, cheaply.
        var bytes = (byte[])MutationCorpus.Grey.Order.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), int.MaxValue);
        var path = _dir.File("huge.dqo");
        File.WriteAllBytes(path, ResealTrailingChecksum(bytes));

        var before = GC.GetAllocatedBytesForCurrentThread();
        var order = IncrementOrder.Read(path);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L * bytes.Length, $"{GC.GetAllocatedBytesForCurrentThread() - before} bytes allocated");
        Assert.Equal(int.MaxValue, order.SampleCount);
    }

    [Theory]
    // Each header field by its own name: all three were refused as incrementCount.
    [InlineData(8, -1, "sampleCount")]
    [InlineData(12, 0, "pixelsPerSample")]
    [InlineData(16, 1_000_000, "incrementCount")]
    public void A_header_field_out_of_range_is_refused_by_its_name(int offset, int value, string field)
    {
        var bytes = (byte[])MutationCorpus.Grey.Order.Clone();
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(offset), value);
        var path = _dir.File("bad-header.dqo");
        File.WriteAllBytes(path, ResealTrailingChecksum(bytes));
        var error = Assert.Throws<DqsFormatException>(() => IncrementOrder.Read(path));
        Assert.Equal((path, field), (error.FilePath, error.Field));
    }
}
