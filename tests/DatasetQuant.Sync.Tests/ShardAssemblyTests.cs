using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>The device's <c>.partial</c> file and chunk journal on real files: what a kill or a power cut leaves behind.</summary>
public sealed class ShardAssemblyTests
{
    [Fact]
    public void Bytes_a_power_cut_lost_are_found_by_their_CRC_on_resume_and_fetched_again_never_accepted()
    {
        using var dir = new TempDirectory();
        const int chunkSize = 4096;
        var source = RandomBytes((10 * chunkSize) + 1234, seed: 1);
        var shard = ShardOf(source);
        var finalPath = dir.File("s.dqs");
        var chunks = shard.ChunkCount(chunkSize);

        using (var assembly = ShardAssembly.Open("d", shard, 1, chunkSize, finalPath, out var resumed))
        {
            Assert.False(resumed);
            for (var i = 0; i < chunks - 1; i++)
            {
                Assert.True(Write(assembly, source, i, chunkSize));
            }

            Assert.False(Write(assembly, source, 0, chunkSize));
            Assert.Equal(0, assembly.Syncs);
        }

        // What a power cut can do to writes that were never fsynced: chunk 3 never reached the flash (zeros),
        // chunk 5 did only in part. Their journal records did.
        using (var partial = File.OpenHandle(finalPath + ".partial", FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(partial, new byte[chunkSize], 3L * chunkSize);
            RandomAccess.Write(partial, new byte[100], (5L * chunkSize) + 2000);
        }

        using (var assembly = ShardAssembly.Open("d", shard, 1, chunkSize, finalPath, out var resumed))
        {
            Assert.True(resumed);
            Assert.Equal(2, assembly.ChunksDiscarded);
            Assert.Equal(chunks - 3, assembly.Received.SetCount);
            Assert.False(assembly.Received[3]);
            Assert.False(assembly.Received[5]);
            Assert.False(assembly.IsComplete);
            foreach (var missing in new[] { 3, 5, chunks - 1 })
            {
                Assert.True(Write(assembly, source, missing, chunkSize));
            }

            Assert.True(assembly.IsComplete);
            Assert.True(assembly.TryCommit(out var sha));
            Assert.Equal(shard.Sha256, sha);
        }

        Assert.Equal(source, File.ReadAllBytes(finalPath));
        Assert.False(File.Exists(finalPath + ".partial"));
        Assert.False(File.Exists(finalPath + ".chunks"));
    }

    [Fact]
    public void A_complete_shard_whose_bytes_do_not_hash_to_the_manifest_is_discarded_not_renamed()
    {
        using var dir = new TempDirectory();
        const int chunkSize = 4096;
        var source = RandomBytes(3 * chunkSize, seed: 2);
        var shard = ShardOf(source);
        var finalPath = dir.File("s.dqs");
        source[5000] ^= 1;

        using var assembly = ShardAssembly.Open("d", shard, 1, chunkSize, finalPath, out _);
        for (var i = 0; i < 3; i++)
        {
            Write(assembly, source, i, chunkSize);
        }

        Assert.False(assembly.TryCommit(out var actual));
        Assert.NotEqual(shard.Sha256, actual);
        Assert.False(File.Exists(finalPath));
        Assert.False(File.Exists(finalPath + ".partial"));
        Assert.False(File.Exists(finalPath + ".chunks"));
    }

    [Fact]
    public void A_shard_larger_than_the_durable_interval_is_fsynced_once_per_interval_not_per_chunk()
    {
        using var dir = new TempDirectory();
        const int chunkSize = ChunkFrameConstants.MaxPayload;
        var perInterval = (int)(ShardAssembly.DurableInterval / chunkSize);
        var source = RandomBytes(((perInterval + 2) * chunkSize) - 10, seed: 3);
        var shard = ShardOf(source);

        using var assembly = ShardAssembly.Open("d", shard, 1, chunkSize, dir.File("big.dqs"), out _);
        for (var i = 0; i < perInterval - 1; i++)
        {
            Write(assembly, source, i, chunkSize);
        }

        Assert.Equal(0, assembly.Syncs);
        Write(assembly, source, perInterval - 1, chunkSize);
        Assert.Equal(1, assembly.Syncs);
        Write(assembly, source, perInterval, chunkSize);
        Write(assembly, source, perInterval + 1, chunkSize);

        // The last chunk leaves the fsync to the commit, which needs one anyway.
        Assert.True(assembly.IsComplete);
        Assert.Equal(1, assembly.Syncs);
        Assert.True(assembly.TryCommit(out _));
    }

    [Fact]
    public void Shards_committed_together_share_one_directory_fsync_and_a_forged_one_is_never_renamed()
    {
        using var dir = new TempDirectory();
        const int chunkSize = 4096;
        var sources = new[] { RandomBytes((3 * chunkSize) + 7, seed: 10), RandomBytes(2 * chunkSize, seed: 11), RandomBytes(chunkSize + 1, seed: 12) };
        var assemblies = new List<ShardAssembly>();
        for (var s = 0; s < sources.Length; s++)
        {
            var shard = new ManifestShard { Id = s, Name = $"s{s}.dqs", Size = sources[s].Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(sources[s])) };
            var assembly = ShardAssembly.Open("d", shard, 1, chunkSize, dir.File(shard.Name), out _);
            for (var i = 0; i < shard.ChunkCount(chunkSize); i++)
            {
                if (s == 1 && i == 1)
                {
                    // Bytes with a valid CRC that are not the published ones: only the SHA-256 check can catch them.
                    var forged = sources[s].AsSpan(i * chunkSize, chunkSize).ToArray();
                    forged[5] ^= 0x20;
                    Assert.True(assembly.Write(i * chunkSize, forged, Crc32C.Compute(forged)));
                }
                else
                {
                    Assert.True(Write(assembly, sources[s], i, chunkSize));
                }
            }

            Assert.True(assembly.IsComplete);
            assemblies.Add(assembly);
        }

        var batch = ShardAssembly.CommitTogether(assemblies);

        Assert.Equal(1, batch.DirectorySyncs);
        Assert.Equal([true, false, true], batch.Outcomes.Select(o => o.Committed));
        Assert.All(batch.Outcomes, o => Assert.Null(o.Error));
        Assert.NotEqual(assemblies[1].Shard.Sha256, batch.Outcomes[1].ActualSha256);
        Assert.Equal(sources[0], File.ReadAllBytes(dir.File("s0.dqs")));
        Assert.Equal(sources[2], File.ReadAllBytes(dir.File("s2.dqs")));
        Assert.False(File.Exists(dir.File("s1.dqs")), "a shard that fails its SHA-256 check is never renamed into place");
        Assert.Equal(["s0.dqs", "s2.dqs"], Directory.EnumerateFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    private static bool Write(ShardAssembly assembly, byte[] source, int chunk, int chunkSize)
    {
        var offset = chunk * chunkSize;
        var payload = source.AsSpan(offset, Math.Min(chunkSize, source.Length - offset));
        return assembly.Write(offset, payload, Crc32C.Compute(payload));
    }

    private static ManifestShard ShardOf(byte[] bytes) =>
        new() { Id = 0, Name = "s.dqs", Size = bytes.Length, Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)) };

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
