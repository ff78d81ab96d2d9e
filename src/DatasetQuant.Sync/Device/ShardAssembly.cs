using System.Security.Cryptography;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// One shard being received: its bytes in <c>{name}.partial</c> (created at full length, chunks written at their
/// offsets) and its bitmap in the <see cref="ChunkJournal"/>. Each chunk is fsynced before the bitmap records it, so
/// the bitmap never claims a chunk that a power cut could have lost.
/// </summary>
internal sealed class ShardAssembly : IDisposable
{
    private readonly FileStream _partial;
    private readonly ChunkJournal _journal;
    private readonly int _chunkSize;

    private ShardAssembly(string dataset, ManifestShard shard, int chunkSize, string finalPath, FileStream partial, ChunkJournal journal)
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

    public Chunks.ChunkBitmap Received => _journal.Bitmap;

    public bool IsComplete => _journal.Bitmap.IsFull;

    /// <summary>Opens (resuming when the journal matches this shard version) or starts the assembly of a shard.</summary>
    public static ShardAssembly Open(string dataset, ManifestShard shard, long manifestVersion, int chunkSize, string finalPath, out bool resumed)
    {
        var partialPath = finalPath + ".partial";
        if (!File.Exists(partialPath))
        {
            // A journal without its partial file describes bytes that are gone.
            File.Delete(finalPath + ".chunks");
        }

        var journal = ChunkJournal.Open(finalPath + ".chunks", manifestVersion, shard.Size, chunkSize, Convert.FromHexString(shard.Sha256), out resumed);
        FileStream partial;
        try
        {
            partial = new FileStream(partialPath, resumed ? FileMode.OpenOrCreate : FileMode.Create, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
            if (partial.Length != shard.Size)
            {
                partial.SetLength(shard.Size);
            }
        }
        catch
        {
            journal.Dispose();
            throw;
        }

        return new ShardAssembly(dataset, shard, chunkSize, finalPath, partial, journal);
    }

    /// <summary>
    /// Stores one chunk. Returns false for a chunk already held (a duplicate); throws nothing for those. The caller
    /// has checked offset and length against the manifest.
    /// </summary>
    public bool Write(long offset, ReadOnlySpan<byte> payload)
    {
        var index = (int)(offset / _chunkSize);
        if (_journal.Bitmap[index])
        {
            return false;
        }

        _partial.Position = offset;
        _partial.Write(payload);
        _partial.Flush(flushToDisk: true);
        _journal.Bitmap.Set(index);
        _journal.Persist();
        return true;
    }

    /// <summary>
    /// For a complete assembly: checks the SHA-256, then fsyncs, renames to the final name and fsyncs the directory.
    /// Returns false (having deleted the partial and its journal) when the hash does not match.
    /// </summary>
    public bool TryCommit(out string actualSha256)
    {
        _partial.Flush(flushToDisk: true);
        _partial.Position = 0;
        actualSha256 = Convert.ToHexStringLower(SHA256.HashData(_partial));
        Dispose();
        if (actualSha256 != Shard.Sha256)
        {
            Discard();
            return false;
        }

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
}
