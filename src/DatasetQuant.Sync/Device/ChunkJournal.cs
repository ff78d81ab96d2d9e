using System.Buffers.Binary;
using DatasetQuant.Sync.Chunks;
using Microsoft.Win32.SafeHandles;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The received-chunk journal of one <c>.partial</c> shard (<c>{shard}.chunks</c>): a header naming the shard version,
/// then one 8-byte record per chunk holding the CRC32C of the chunk's bytes. Records are plain writes, not fsynced:
/// a killed process leaves them in the page cache, and after a power cut <see cref="ShardAssembly"/> checks every
/// chunk a record claims against its CRC before trusting it, so a lost or torn write costs a refetch, never a wrong
/// byte. A record is 8-byte aligned and written whole, so it cannot straddle two sectors.
/// Header: magic "DQJ2", manifest version i64, shard size i64, chunk size i32, chunk count i32, SHA-256 of the
/// shard (32 bytes), CRC32C of the bytes before it (u32). Record i at <c>64 + 8 i</c>: chunk CRC32C u32, then the
/// seal CRC32C(header CRC, i, chunk CRC) ^ <see cref="SealMask"/> u32, so a zeroed or half-written record is not a
/// record, and a record left over from another shard version never seals under this header. Nothing here is fsynced
/// when a journal starts: a header lost to a power cut only means starting over. All little-endian. In memory the
/// journal keeps one bit per chunk: a record's CRC is read back from the file when a resume checks it, so a shard of
/// 2^26 chunks (2^36 bytes in chunks of 1 KiB, the largest a manifest may list) costs 8 MiB rather than 256 MiB.
/// </summary>
internal sealed class ChunkJournal : IDisposable
{
    private const uint Magic = 0x324A5144; // "DQJ2"
    private const int HeaderSize = 4 + 8 + 8 + 4 + 4 + 32 + 4;
    private const int RecordSize = 8;
    private const uint SealMask = 0xA5C3_5A3C;

    /// <summary>Records read at a time when a journal is opened: 64 KiB, whatever the shard's size.</summary>
    private const int RecordsPerRead = 8192;

    private readonly SafeFileHandle _file;
    private readonly uint _headerCrc;

    private ChunkJournal(SafeFileHandle file, uint headerCrc, ChunkBitmap bitmap)
    {
        _file = file;
        _headerCrc = headerCrc;
        Bitmap = bitmap;
    }

    /// <summary>Chunks with a sealed record. Until <see cref="ShardAssembly"/> has checked them, a claim, not a fact.</summary>
    public ChunkBitmap Bitmap { get; }

    /// <summary>The CRC32C recorded for chunk <paramref name="index"/> (meaningful only when its bit is set), read from the file.</summary>
    public uint CrcOf(int index)
    {
        Span<byte> record = stackalloc byte[RecordSize];
        return RandomAccess.Read(_file, record, RecordOffset(index)) == RecordSize ? BinaryPrimitives.ReadUInt32LittleEndian(record) : 0;
    }

    /// <summary>
    /// Opens the journal at <paramref name="path"/> and returns the records it holds for exactly this shard version,
    /// or a fresh empty journal when the file is absent, unreadable, or for another version.
    /// </summary>
    public static ChunkJournal Open(string path, long manifestVersion, long shardSize, int chunkSize, byte[] sha256, out bool resumed)
    {
        var count = checked((int)((shardSize + chunkSize - 1) / chunkSize));
        var header = new byte[HeaderSize];
        var headerCrc = WriteHeader(header, manifestVersion, shardSize, chunkSize, count, sha256);
        var file = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        try
        {
            var bitmap = new ChunkBitmap(count);
            resumed = HeaderMatches(file, header) && ReadRecords(file, headerCrc, bitmap);
            if (!resumed)
            {
                RandomAccess.SetLength(file, 0);
                RandomAccess.Write(file, header, 0);
                RandomAccess.SetLength(file, HeaderSize + ((long)count * RecordSize));
            }

            return new ChunkJournal(file, headerCrc, bitmap);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>Records chunk <paramref name="index"/> as held with bytes of CRC32C <paramref name="crc"/> (a plain write).</summary>
    public void Record(int index, uint crc)
    {
        Span<byte> record = stackalloc byte[RecordSize];
        BinaryPrimitives.WriteUInt32LittleEndian(record, crc);
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Seal(_headerCrc, index, crc));
        RandomAccess.Write(_file, record, RecordOffset(index));
        Bitmap.Set(index);
    }

    /// <summary>Forgets chunk <paramref name="index"/>, whose bytes did not match its record.</summary>
    public void Forget(int index)
    {
        Span<byte> zero = stackalloc byte[RecordSize];
        zero.Clear();
        RandomAccess.Write(_file, zero, RecordOffset(index));
        Bitmap.Clear(index);
    }

    /// <summary>fsync: every record written so far survives a power cut.</summary>
    public void Flush() => RandomAccess.FlushToDisk(_file);

    public void Dispose() => _file.Dispose();

    private static long RecordOffset(int index) => HeaderSize + ((long)index * RecordSize);

    private static uint Seal(uint headerCrc, int index, uint crc)
    {
        Span<byte> input = stackalloc byte[12];
        BinaryPrimitives.WriteUInt32LittleEndian(input, headerCrc);
        BinaryPrimitives.WriteInt32LittleEndian(input[4..], index);
        BinaryPrimitives.WriteUInt32LittleEndian(input[8..], crc);
        return Crc32C.Compute(input) ^ SealMask;
    }

    private static uint WriteHeader(Span<byte> s, long manifestVersion, long shardSize, int chunkSize, int count, byte[] sha256)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(s, Magic);
        BinaryPrimitives.WriteInt64LittleEndian(s[4..], manifestVersion);
        BinaryPrimitives.WriteInt64LittleEndian(s[12..], shardSize);
        BinaryPrimitives.WriteInt32LittleEndian(s[20..], chunkSize);
        BinaryPrimitives.WriteInt32LittleEndian(s[24..], count);
        sha256.CopyTo(s[28..]);
        var crcAt = HeaderSize - 4;
        var crc = Crc32C.Compute(s[..crcAt]);
        BinaryPrimitives.WriteUInt32LittleEndian(s[crcAt..], crc);
        return crc;
    }

    private static bool HeaderMatches(SafeFileHandle file, byte[] expected)
    {
        Span<byte> actual = stackalloc byte[HeaderSize];
        return RandomAccess.Read(file, actual, 0) == HeaderSize && actual.SequenceEqual(expected);
    }

    /// <summary>Reads every sealed record; false when the file is shorter than its header says (then it starts afresh).</summary>
    private static bool ReadRecords(SafeFileHandle file, uint headerCrc, ChunkBitmap bitmap)
    {
        var records = new byte[Math.Min(bitmap.Count, RecordsPerRead) * RecordSize];
        for (var first = 0; first < bitmap.Count; first += RecordsPerRead)
        {
            var block = records.AsSpan(0, Math.Min(RecordsPerRead, bitmap.Count - first) * RecordSize);
            if (RandomAccess.Read(file, block, RecordOffset(first)) != block.Length)
            {
                return false;
            }

            for (var i = 0; i < block.Length / RecordSize; i++)
            {
                var crc = BinaryPrimitives.ReadUInt32LittleEndian(block[(i * RecordSize)..]);
                if (BinaryPrimitives.ReadUInt32LittleEndian(block[((i * RecordSize) + 4)..]) == Seal(headerCrc, first + i, crc))
                {
                    bitmap.Set(first + i);
                }
            }
        }

        return true;
    }
}
