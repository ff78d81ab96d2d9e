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
        actualSha256 = HashPartial();
        if (actualSha256 != Shard.Sha256)
        {
            Discard();
            return false;
        }

        RandomAccess.FlushToDisk(_partial);
        Dispose();

        DurableFile.CommitTemp(PartialPath, FinalPath);
        File.Delete(JournalPath);
        return true;
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
