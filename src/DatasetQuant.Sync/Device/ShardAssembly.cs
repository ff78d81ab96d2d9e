using System.Buffers;
using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Win32.SafeHandles;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// One shard being received: its bytes in <c>{name}.partial</c> (created at full length, chunks written at their
/// offsets) and a CRC32C record per chunk in the <see cref="ChunkJournal"/>. Neither is fsynced per chunk: a killed
/// process loses nothing the kernel already holds, so at most the chunk being written is fetched again. What a power
/// cut may lose is found on resume, when every chunk the journal claims is read back and checked against its CRC;
/// chunks that fail are forgotten and pulled again. Every <see cref="DurableInterval"/> bytes the partial file and the
/// journal are fsynced, which bounds what a power cut costs; the partial file is fsynced again before the rename.
/// </summary>
internal sealed class ShardAssembly : IDisposable
{
    /// <summary>Bytes received between two fsyncs: what a power cut can cost at most, in refetches.</summary>
    internal const long DurableInterval = 8L << 20;

    private readonly SafeFileHandle _partial;
    private readonly ChunkJournal _journal;
    private readonly int _chunkSize;
    private long _unsyncedBytes;

    private ShardAssembly(string dataset, ManifestShard shard, int chunkSize, string finalPath, SafeFileHandle partial, ChunkJournal journal)
    {
        Dataset = dataset;
        Shard = shard;
        _chunkSize = chunkSize;
        FinalPath = finalPath;
        PartialPath = finalPath + ".partial";
        JournalPath = finalPath + ".chunks";
        _partial = partial;
        _journal = journal;
    }

    public string Dataset { get; }

    public ManifestShard Shard { get; }

    public string FinalPath { get; }

    public string PartialPath { get; }

    public string JournalPath { get; }

    public ChunkBitmap Received => _journal.Bitmap;

    public bool IsComplete => _journal.Bitmap.IsFull;

    /// <summary>On resume: chunks the journal claimed whose bytes did not match their CRC (lost to a power cut).</summary>
    public int ChunksDiscarded { get; private set; }

    /// <summary>Fsyncs of the partial file and its journal since the assembly was opened (each counts once).</summary>
    public int Syncs { get; private set; }

    /// <summary>
    /// Opens (resuming when the journal matches this shard version, after checking every claimed chunk against its
    /// CRC) or starts the assembly of a shard.
    /// </summary>
    public static ShardAssembly Open(string dataset, ManifestShard shard, long manifestVersion, int chunkSize, string finalPath, out bool resumed)
    {
        var partialPath = finalPath + ".partial";
        if (!File.Exists(partialPath))
        {
            // A journal without its partial file describes bytes that are gone.
            File.Delete(finalPath + ".chunks");
        }

        var journal = ChunkJournal.Open(finalPath + ".chunks", manifestVersion, shard.Size, chunkSize, Convert.FromHexString(shard.Sha256), out resumed);
        SafeFileHandle? partial = null;
        try
        {
            partial = File.OpenHandle(partialPath, resumed ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.ReadWrite, FileShare.None);
            if (RandomAccess.GetLength(partial) != shard.Size)
            {
                RandomAccess.SetLength(partial, shard.Size);
            }

            var assembly = new ShardAssembly(dataset, shard, chunkSize, finalPath, partial, journal);
            if (resumed)
            {
                assembly.DiscardChunksThatFailTheirCrc();
            }

            return assembly;
        }
        catch
        {
            partial?.Dispose();
            journal.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Stores one chunk whose bytes have CRC32C <paramref name="crc32C"/> (checked by the frame reader). Returns false
    /// for a chunk already held (a duplicate). The caller has checked offset and length against the manifest.
    /// </summary>
    public bool Write(long offset, ReadOnlySpan<byte> payload, uint crc32C)
    {
        var index = (int)(offset / _chunkSize);
        if (_journal.Bitmap[index])
        {
            return false;
        }

        // Data before its record: a process killed between the two leaves bytes without a claim, never the reverse.
        RandomAccess.Write(_partial, payload, offset);
        _journal.Record(index, crc32C);
        _unsyncedBytes += payload.Length;
        if (_unsyncedBytes >= DurableInterval && !IsComplete)
        {
            Sync();
        }

        return true;
    }

    /// <summary>
    /// For a complete assembly: checks the SHA-256, then fsyncs, renames to the final name and fsyncs the directory.
    /// Returns false (having deleted the partial and its journal) when the hash does not match.
    /// </summary>
    public bool TryCommit(out string actualSha256)
    {
        var outcome = CommitTogether([this]).Outcomes[0];
        if (outcome.Error is { } error)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(error);
        }

        actualSha256 = outcome.ActualSha256;
        return outcome.Committed;
    }

    /// <summary>
    /// Group commit of complete assemblies: each is checked against its SHA-256 (a mismatch is discarded, never
    /// renamed) and its partial file fsynced; then every verified one is renamed to its final name, and each directory
    /// holding one is fsynced once, after all its renames. Every shard is still temp file, fsync, rename, directory
    /// fsync; shards that complete together share the directory fsync. A failure affects the shards it touches: an
    /// I/O error before the rename leaves that shard's partial file and journal for the next try; a failed directory
    /// fsync is reported for every shard renamed into that directory (the file is in place, maybe not durable).
    /// </summary>
    public static ShardCommitBatch CommitTogether(IReadOnlyList<ShardAssembly> assemblies)
    {
        var outcomes = new ShardCommitOutcome[assemblies.Count];
        var renamed = new List<int>(assemblies.Count);
        for (var i = 0; i < assemblies.Count; i++)
        {
            var assembly = assemblies[i];
            try
            {
                var actual = assembly.HashPartial();
                if (actual != assembly.Shard.Sha256)
                {
                    assembly.Discard();
                    outcomes[i] = new ShardCommitOutcome(false, actual, null);
                    continue;
                }

                RandomAccess.FlushToDisk(assembly._partial);
                assembly.Dispose();
                File.Move(assembly.PartialPath, assembly.FinalPath, overwrite: true);
                outcomes[i] = new ShardCommitOutcome(true, actual, null);
                renamed.Add(i);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                assembly.Dispose();
                outcomes[i] = new ShardCommitOutcome(false, string.Empty, ex);
            }
        }

        var directorySyncs = 0;
        foreach (var directory in renamed.Select(i => Path.GetDirectoryName(Path.GetFullPath(assemblies[i].FinalPath))!).Distinct(StringComparer.Ordinal))
        {
            try
            {
                DurableFile.SyncDirectory(directory);
                directorySyncs++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                foreach (var i in renamed.Where(i => Path.GetDirectoryName(Path.GetFullPath(assemblies[i].FinalPath)) == directory))
                {
                    outcomes[i] = outcomes[i] with { Committed = false, Error = ex };
                }
            }
        }

        foreach (var i in renamed)
        {
            if (outcomes[i].Committed)
            {
                // Only once the rename is durable: a journal without its partial file is deleted on the next open anyway.
                File.Delete(assemblies[i].JournalPath);
            }
        }

        return new ShardCommitBatch(outcomes, directorySyncs);
    }

    /// <summary>Deletes the partial file and the journal (after <see cref="Dispose"/>).</summary>
    public void Discard()
    {
        Dispose();
        File.Delete(PartialPath);
        File.Delete(JournalPath);
    }

    public void Dispose()
    {
        _partial.Dispose();
        _journal.Dispose();
    }

    private void Sync()
    {
        // The records may then claim only bytes that are on flash, so a resume after a power cut rarely discards any.
        RandomAccess.FlushToDisk(_partial);
        _journal.Flush();
        _unsyncedBytes = 0;
        Syncs++;
    }

    private string HashPartial()
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(_chunkSize);
        try
        {
            for (long offset = 0; offset < Shard.Size; offset += _chunkSize)
            {
                var chunk = buffer.AsSpan(0, (int)Math.Min(_chunkSize, Shard.Size - offset));
                RandomAccess.Read(_partial, chunk, offset);
                sha.AppendData(chunk);
            }

            return Convert.ToHexStringLower(sha.GetHashAndReset());
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void DiscardChunksThatFailTheirCrc()
    {
        var buffer = ArrayPool<byte>.Shared.Rent(_chunkSize);
        try
        {
            for (var index = 0; index < Received.Count; index++)
            {
                if (!Received[index])
                {
                    continue;
                }

                var offset = (long)index * _chunkSize;
                var chunk = buffer.AsSpan(0, (int)Math.Min(_chunkSize, Shard.Size - offset));
                if (RandomAccess.Read(_partial, chunk, offset) != chunk.Length || Crc32C.Compute(chunk) != _journal.CrcOf(index))
                {
                    _journal.Forget(index);
                    ChunksDiscarded++;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}

/// <summary>What <see cref="ShardAssembly.CommitTogether"/> did with one shard.</summary>
/// <param name="Committed">Verified, renamed into place and the rename made durable.</param>
/// <param name="ActualSha256">The SHA-256 of the received bytes (empty when they could not be read).</param>
/// <param name="Error">The I/O error that stopped the commit, or null.</param>
internal readonly record struct ShardCommitOutcome(bool Committed, string ActualSha256, Exception? Error);

/// <summary>The outcome per shard, in the order given, and how many directory fsyncs the batch took.</summary>
internal sealed record ShardCommitBatch(ShardCommitOutcome[] Outcomes, int DirectorySyncs);
