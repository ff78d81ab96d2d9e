using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

public sealed class FileBudgetTests
{
    [Theory]
    [InlineData(200_000, 64L << 20)]
    [InlineData(300_000, 64 * 1024)]
    public void A_byte_budget_bounds_the_shard_files_headers_and_index_included(long budget, long shardSize)
    {
        using var dir = new TempDirectory();
        var result = Samples.Quantize(dir.Path, 2000, budget.ToString(System.Globalization.CultureInfo.InvariantCulture), shardSize: shardSize);

        var files = result.ShardPaths.Sum(p => new FileInfo(p).Length);
        Assert.Equal(files, result.FileBytes);
        Assert.InRange(files, budget - 2000, budget);
        Assert.All(DqsVerifier.VerifySet(result.ShardPaths), v => Assert.True(v.IsValid, string.Join("; ", v.Problems)));
        if (shardSize < budget)
        {
            Assert.True(result.ShardPaths.Count > 1, "the small shard size should split the set");
        }
    }

    [Fact]
    public void A_bpp_budget_still_bounds_the_payload_alone()
    {
        using var dir = new TempDirectory();
        var result = Samples.Quantize(dir.Path, 1000, "1bpp");
        Assert.InRange(result.PayloadBytes, 97_000, 98_000);
        // The index comes on top: at least 4.5 bytes per stored sample in 2.0, and well under the 16 of 1.x.
        var stored = result.Bits.Count(b => b > 0);
        Assert.InRange(result.FileBytes - result.PayloadBytes, (stored * 9L / 2) + 96, (stored * 5L) + 200);
    }

    [Fact]
    public void A_byte_budget_below_an_empty_shard_is_refused_with_the_reason()
    {
        using var dir = new TempDirectory();
        var error = Assert.Throws<ArgumentException>(() => Samples.Quantize(dir.Path, 100, "50"));
        Assert.Contains("does not cover the header", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Requantizing_to_a_byte_budget_bounds_the_files()
    {
        using var dir = new TempDirectory();
        var original = Samples.Quantize(dir.Path, 600, "3bpp", shardSize: 100 * 1024);
        var result = Requantizer.Requantize(original.ShardPaths, Budget.Parse("60000"), dir.Path);
        var files = result.ShardPaths.Sum(p => new FileInfo(p).Length);
        Assert.InRange(files, 58_000, 60_000);
    }
}
