using DatasetQuant.Core.Formats.Dqs;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Shards;

namespace DatasetQuant.Sync.Tests;

public sealed class BudgetTests
{
    [Fact]
    public async Task A_lowered_budget_shrinks_shards_in_place_and_a_raised_one_fetches_the_finer_shards()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev", requantizer: new DqsShardRequantizer()).Start();
        var shards = FashionMnistShards.Write(bed.Root.File("fmnist-8bit"), samples: 1200, shardSize: 500_000);
        var published = await PublishDqsAsync(bed, shards, version: 1);
        var full = published.Manifest.TotalBytes;
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "fmnist v1", bed.Log);
        var chunksBefore = device.Engine!.ChunksStored;
        var framesBefore = bed.Responder.FramesSent;

        // Down to 45%: requantized in place, no download.
        var budget = full * 45 / 100;
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, budget);
        await SyncTestBed.WaitUntilAsync(() => Reported(bed)?.Version == 1, "budget v1 reported", bed.Log);

        var reported = Reported(bed)!;
        Assert.Equal(device.Engine.HeldBytes, reported.HeldBytes);
        Assert.True(reported.HeldBytes <= budget, $"{reported.HeldBytes} held for a budget of {budget}");
        Assert.True(reported.HeldBytes > budget * 8 / 10, $"{reported.HeldBytes} held: the budget of {budget} is badly used");
        Assert.Equal(chunksBefore, device.Engine.ChunksStored);
        Assert.Equal(framesBefore, bed.Responder.FramesSent);
        AssertRequantizedFrom(shards, device.DatasetDirectory("fmnist"));
        await SyncTestBed.WaitUntilAsync(() => FleetTransferTests.StateOf(bed, "dev")?.HeldBytes == reported.HeldBytes, "state with the new byte count", bed.Log);

        // A lower version is ignored, even with another number.
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, full);
        await Task.Delay(300);
        Assert.Equal(reported.HeldBytes, device.Engine.HeldBytes);

        // Back up to everything: the full-precision shards are fetched again, byte exact.
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 2, full);
        await SyncTestBed.WaitUntilAsync(
            () => Reported(bed) is { Version: 2, Status: BudgetReportedMessage.Applied } r && r.HeldBytes == full, "budget v2 applied at full size", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
        Assert.True(bed.Responder.FramesSent > framesBefore);
    }

    /// <summary>
    /// Shards smaller than a chunk: a rise never gains a whole chunk on one, so only a target of the full size brings
    /// it back whole (without that rule a shrunk small shard stayed coarse under any budget).
    /// </summary>
    [Fact]
    public async Task A_budget_back_to_the_full_size_fetches_shards_smaller_than_a_chunk_again()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev", requantizer: new DqsShardRequantizer()).Start();
        var shards = FashionMnistShards.Write(bed.Root.File("fmnist-8bit"), samples: 60, shardSize: 12_000);
        var published = await PublishDqsAsync(bed, shards, version: 1);
        Assert.All(published.Manifest.Shards, s => Assert.True(s.Size < SyncTestBed.ChunkSize, $"{s.Name}: {s.Size} bytes"));
        var full = published.Manifest.TotalBytes;
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "fmnist v1", bed.Log);

        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, full * 45 / 100);
        await SyncTestBed.WaitUntilAsync(() => Reported(bed)?.Version == 1, "budget v1 reported", bed.Log);
        Assert.True(device.Engine!.HeldBytes <= full * 45 / 100);

        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 2, full);
        await SyncTestBed.WaitUntilAsync(
            () => Reported(bed) is { Version: 2, Status: BudgetReportedMessage.Applied } r && r.HeldBytes == full, "budget v2 applied at full size", bed.Log);
        device.AssertHoldsExactly("fmnist", shards);
    }

    [Fact]
    public async Task A_device_whose_budget_is_below_the_dataset_keeps_only_its_share_after_the_download()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev", requantizer: new DqsShardRequantizer()).Start();
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 3, 300_000);
        await SyncTestBed.WaitUntilAsync(() => Reported(bed)?.Version == 3, "budget reported", bed.Log);

        var shards = FashionMnistShards.Write(bed.Root.File("fmnist-8bit"), samples: 1000, shardSize: 400_000);
        await PublishDqsAsync(bed, shards, version: 1);

        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "fmnist v1", bed.Log);
        Assert.True(device.Engine!.HeldBytes <= 300_000, $"{device.Engine.HeldBytes} held for a budget of 300000");
        AssertRequantizedFrom(shards, device.DatasetDirectory("fmnist"));
    }

    [Fact]
    public void The_width_plan_never_raises_a_width_and_fits_the_byte_count()
    {
        int[] widths = [8, 8, 5, 3, 8, 1, 7];
        foreach (var max in new long[] { 100_000, 4_000, 3_000, 1_600, 900, 400 })
        {
            var plan = DqsShardRequantizer.PlanWidths(widths, 784, Layout, max);
            Assert.NotNull(plan);
            var size = Layout.Overhead(plan!.Count(b => b > 0)) + plan.Sum(b => (long)Core.Quantization.SampleQuantizer.PackedBytes(784, b));
            Assert.True(size <= max, $"{size} > {max}");
            Assert.All(plan.Zip(widths), p => Assert.InRange(p.First, 0, p.Second));
        }

        Assert.Null(DqsShardRequantizer.PlanWidths(widths, 784, Layout, 50));
    }

    private static DqsIndexLayout Layout => DqsIndexLayout.Current(1, 10, 784);

    private static async Task<PublishedDataset> PublishDqsAsync(SyncTestBed bed, string shards, long version)
    {
        var result = await bed.Publisher.PublishAsync("fmnist", version, shards, new DqsShardDescriber(), SyncTestBed.ChunkSize);
        bed.Catalog.Add(result.Dataset);
        Assert.All(result.Dataset.Manifest.Shards, s => Assert.Equal(8.0, s.BitsPerPixel));
        return result.Dataset;
    }

    private static BudgetReportedMessage? Reported(SyncTestBed bed) =>
        bed.Broker.Retained.TryGetValue(bed.Topics.BudgetReported("dev"), out var message)
        && SyncMessageCodec.TryReadBudgetReported(message.Payload.Span, out var reported, out _) ? reported : null;

    /// <summary>Every held shard is a valid .dqs whose codes are the original 8-bit codes shifted right.</summary>
    private static void AssertRequantizedFrom(string sourceDirectory, string heldDirectory)
    {
        foreach (var sourcePath in Directory.GetFiles(sourceDirectory, "*.dqs"))
        {
            using var source = DqsReader.Open(sourcePath);
            using var held = DqsReader.Open(Path.Combine(heldDirectory, Path.GetFileName(sourcePath)));
            Assert.Equal(source.Count, held.Count);
            var original = new byte[source.PixelsPerSample];
            var shrunk = new byte[source.PixelsPerSample];
            for (var i = 0; i < held.Count; i += 97)
            {
                var bits = held.Bits(i);
                Assert.InRange(bits, 1, 7);
                source.ReadCodes(i, original);
                held.ReadCodes(i, shrunk);
                Assert.Equal(original.Select(c => (byte)(c >> (8 - bits))).ToArray(), shrunk);
                Assert.Equal(source.Label(i), held.Label(i));
            }
        }
    }
}
