using System.Buffers.Binary;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The persisted received-chunk bitmap of one <c>.partial</c> shard (<c>{shard}.chunks</c>). Two slots are written
/// alternately, each with a sequence number and a CRC32C, and fsynced after every chunk: a write torn by a power cut
/// spoils only the slot being written, and the other still holds the state one chunk earlier.
/// Slot: magic "DQJ1", sequence u64, manifest version i64, shard size i64, chunk size i32, chunk count i32,
/// SHA-256 of the shard (32 bytes), bitmap (ceil(count/8) bytes), CRC32C of everything before it (u32); little-endian.
/// </summary>
internal sealed class ChunkJournal : IDisposable
{
    private const uint Magic = 0x314A5144; // "DQJ1"
    private const int FixedSize = 4 + 8 + 8 + 8 + 4 + 4 + 32 + 4;

    private readonly FileStream _file;
    private readonly byte[] _slot;
    private readonly long _manifestVersion;
    private readonly long _shardSize;
    private readonly int _chunkSize;
    private readonly byte[] _sha256;
    private ulong _sequence;

    private ChunkJournal(FileStream file, long manifestVersion, long shardSize, int chunkSize, byte[] sha256, ChunkBitmap bitmap, ulong sequence)
    {
        _file = file;
        _manifestVersion = manifestVersion;
        _shardSize = shardSize;
        _chunkSize = chunkSize;
        _sha256 = sha256;
        Bitmap = bitmap;
        _sequence = sequence;
        _slot = new byte[SlotSize(bitmap.Count)];
    }

    public ChunkBitmap Bitmap { get; }

    /// <summary>
    /// Opens the journal at <paramref name="path"/> and returns the bitmap it holds for exactly this shard version, or
    /// a fresh empty one (writing it) when the file is absent, unreadable, or for another version.
    /// </summary>
    public static ChunkJournal Open(string path, long manifestVersion, long shardSize, int chunkSize, byte[] sha256, out bool resumed)
    {
        var count = (int)((shardSize + chunkSize - 1) / chunkSize);
        var slotSize = SlotSize(count);
        var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 0);
        ChunkBitmap? best = null;
        ulong bestSequence = 0;
        if (file.Length == 2L * slotSize)
        {
            var buffer = new byte[slotSize];
            for (var slot = 0; slot < 2; slot++)
            {
                file.Position = (long)slot * slotSize;
                file.ReadExactly(buffer);
                if (TryParse(buffer, manifestVersion, shardSize, chunkSize, sha256, count, out var sequence, out var bitmap) && (best is null || sequence > bestSequence))
                {
                    best = bitmap;
                    bestSequence = sequence;
                }
            }
        }

        resumed = best is not null;
        var journal = new ChunkJournal(file, manifestVersion, shardSize, chunkSize, sha256, best ?? new ChunkBitmap(count), bestSequence);
        if (!resumed)
        {
            file.SetLength(2L * slotSize);
            journal.Persist();
        }

        return journal;
    }

    /// <summary>Writes the current bitmap to the older slot and fsyncs it.</summary>
    public void Persist()
    {
        _sequence++;
        var s = _slot.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteUInt64LittleEndian(s[4..], _sequence);
        BinaryPrimitives.WriteInt64LittleEndian(s[12..], _manifestVersion);
        BinaryPrimitives.WriteInt64LittleEndian(s[20..], _shardSize);
        BinaryPrimitives.WriteInt32LittleEndian(s[28..], _chunkSize);
        BinaryPrimitives.WriteInt32LittleEndian(s[32..], Bitmap.Count);
        _sha256.CopyTo(s[36..]);
        Bitmap.Bytes.CopyTo(s[68..]);
        var crcAt = s.Length - 4;
        BinaryPrimitives.WriteUInt32LittleEndian(s[crcAt..], Crc32C.Compute(s[..crcAt]));
        _file.Position = (long)(_sequence % 2) * _slot.Length;
        _file.Write(_slot);
        _file.Flush(flushToDisk: true);
    }

    public void Dispose() => _file.Dispose();

    private static int SlotSize(int count) => FixedSize + ((count + 7) / 8);

    private static bool TryParse(
        ReadOnlySpan<byte> s, long manifestVersion, long shardSize, int chunkSize, byte[] sha256, int count, out ulong sequence, out ChunkBitmap bitmap)
    {
        sequence = 0;
        bitmap = null!;
        var crcAt = s.Length - 4;
        if (BinaryPrimitives.ReadUInt32LittleEndian(s) != Magic
            || BinaryPrimitives.ReadUInt32LittleEndian(s[crcAt..]) != Crc32C.Compute(s[..crcAt])
            || BinaryPrimitives.ReadInt64LittleEndian(s[12..]) != manifestVersion
            || BinaryPrimitives.ReadInt64LittleEndian(s[20..]) != shardSize
            || BinaryPrimitives.ReadInt32LittleEndian(s[28..]) != chunkSize
            || BinaryPrimitives.ReadInt32LittleEndian(s[32..]) != count
            || !s.Slice(36, 32).SequenceEqual(sha256))
        {
            return false;
        }

        sequence = BinaryPrimitives.ReadUInt64LittleEndian(s[4..]);
        bitmap = ChunkBitmap.FromBytes(count, s.Slice(68, crcAt - 68));
        return true;
    }
}
