using System.Security.Cryptography;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>Device-side cases the mutation tests found, each pinned on its own.</summary>
public sealed class FoundByMutationDeviceTests
{
    [Theory]
    [InlineData("a.dqs.partial")]
    [InlineData("a.dqs.chunks")]
    [InlineData("a.dqs.requant.tmp")]
    [InlineData("A.DQS")]
    public async Task A_manifest_whose_entry_is_named_like_another_entrys_working_file_is_refused(string name)
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev").Start();
        var directory = Directory.CreateDirectory(bed.Root.File("colliding")).FullName;
        File.WriteAllBytes(Path.Combine(directory, "a.dqs"), RandomNumberGenerator.GetBytes(40_000));
        File.WriteAllBytes(Path.Combine(directory, name), RandomNumberGenerator.GetBytes(30_000));
        using var key = SigningKeyPem.LoadPrivateKey(bed.Root.File("coordinator.pem"));
        var signed = WireSamples.Sign(Manifest("colliding", 1, directory, "a.dqs", name), key);
        bed.Catalog.Add(new PublishedDataset(signed, directory));
        await bed.Publisher.PublishAsync(new PublishedDataset(signed, directory));

        // Assembling a.dqs writes a.dqs.partial and a.dqs.chunks, and shrinking it a.dqs.requant.tmp: an entry of that
        // name would be overwritten by them (and would overwrite them); on a card's FAT file system A.DQS is a.dqs.
        await SyncTestBed.WaitUntilAsync(() => bed.Log.Contains("Refused manifest on dq/v1/lab/datasets/colliding/manifest"), "the refusal", bed.Log);
        Assert.Contains(bed.Log.Lines, l => l.Contains("Refused manifest", StringComparison.Ordinal) && l.Contains($"field 'name' is '{name}'", StringComparison.Ordinal));
        Assert.False(Directory.Exists(device.DatasetDirectory("colliding")) && Directory.EnumerateFiles(device.DatasetDirectory("colliding")).Any());
    }

    [Fact]
    public void A_journal_of_the_largest_shard_a_manifest_may_list_keeps_one_bit_per_chunk_in_memory()
    {
        // A mutant at the largest size (2^36 bytes) had the device keep a CRC per chunk in memory, and read every record
        // into one buffer on resume: at 16 KiB chunks 16 MiB and 32 MiB more, at 1 KiB chunks 256 MiB and 512 MiB.
        using var dir = new TempDirectory();
        var path = dir.File("largest.chunks");
        ChunkJournal.Open(dir.File("warm.chunks"), 1, 1, 1024, new byte[32], out _).Dispose();
        var before = GC.GetAllocatedBytesForCurrentThread();
        using (var journal = ChunkJournal.Open(path, 1, DatasetManifest.MaxShardSize, 16_384, new byte[32], out _))
        {
            journal.Record(123_456, 0xC0FFEEu);
        }

        using (var journal = ChunkJournal.Open(path, 1, DatasetManifest.MaxShardSize, 16_384, new byte[32], out var resumed))
        {
            Assert.True(resumed);
            Assert.Equal(1, journal.Bitmap.SetCount);
            Assert.Equal(0xC0FFEEu, journal.CrcOf(123_456));
        }

        // Two bitmaps of 4,194,304 bits (512 KiB each) and a 64 KiB read buffer.
        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - before, 0, 2 << 20);
    }

    private static DatasetManifest Manifest(string dataset, long version, string directory, params string[] names) => new()
    {
        Fleet = SyncTestBed.Fleet, Dataset = dataset, Version = version, ChunkSize = SyncTestBed.ChunkSize, CreatedUnixSeconds = 1795291200,
        Shards = [.. names.Select((n, i) => new ManifestShard
        {
            Id = i, Name = n, Size = new FileInfo(Path.Combine(directory, n)).Length, BitBudget = 8, BitsPerPixel = 1, SampleCount = 1,
            Sha256 = Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(directory, n)))),
        })],
    };
}
