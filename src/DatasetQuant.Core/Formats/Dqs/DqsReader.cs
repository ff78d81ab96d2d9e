using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using DatasetQuant.Core.Formats.Dqs.Planes;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// One shard (version 2.0, or 1.0/1.1), memory-mapped. Opening checks the header, footer, index checksum and every
/// index entry, and computes each sample's payload offset (2.0 stores none), so random access afterwards is O(1); the
/// payload checksum covering a sample (its own in 1.x, its block's in 2.0) is checked the first time the sample is
/// read. Decoding writes into caller memory and allocates nothing. Bad data raises <see cref="DqsFormatException"/>
/// naming the file, and the field or sample. Safe for concurrent readers.
/// </summary>
public sealed unsafe partial class DqsReader : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private GCHandle _pin;
    private readonly byte* _base;
    private readonly long _length;
    private readonly DqsHeader _header;
    private readonly float[] _mean;
    private readonly int _plane;
    private readonly DqsIndexLayout _layout;
    private readonly int _indexLength;
    private readonly uint[] _offsets;
    private readonly PlaneShardIndex? _planes;
    private readonly int[] _verified;
    private readonly byte* _index;
    private readonly byte* _scales;
    private readonly byte* _shifts;
    private readonly byte* _widths;
    private readonly byte* _payload;
    private bool _disposed;

    private const int DecodeSlack = 16;

    private DqsReader(string path, bool verifyPayloadChecksums)
    {
        Path = path;
        VerifyPayloadChecksums = verifyPayloadChecksums;
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1, FileOptions.None);
        }
        catch (FileNotFoundException ex)
        {
            throw new FileNotFoundException($"{path}: no such shard.", path, ex);
        }

        _length = stream.Length;
        if (_length < DqsConstants.FixedHeaderSize)
        {
            stream.Dispose();
            DqsThrowHelper.ThrowTruncated(path, _length, DqsConstants.FixedHeaderSize, "the fixed header");
        }

        try
        {
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: false);
            _view = _map.CreateViewAccessor(0, _length, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _base = pointer + _view.PointerOffset;
            (_header, _indexLength, _offsets, _planes) = CheckOnOpen();
        }
        catch
        {
            Release();
            throw;
        }

        (_layout, _mean, _plane, _verified) = (_header.Layout, _header.ChannelMean.ToArray(), _header.Height * _header.Width, NewVerifiedBits(_header));
        _index = _base + _header.IndexOffset;
        _payload = _base + _header.PayloadOffset;
        // 2.0's columns (1.x reads its records and never these).
        _scales = _index + _layout.ScalesAt(_header.SampleCount);
        _shifts = _index + _layout.ShiftsAt(_header.SampleCount);
        _widths = _index + _layout.WidthsAt(_header.SampleCount);
    }

    private DqsReader(byte[] data, string name, bool verifyPayloadChecksums)
    {
        Path = name;
        VerifyPayloadChecksums = verifyPayloadChecksums;
        _length = data.Length;
        _pin = GCHandle.Alloc(data, GCHandleType.Pinned);
        _base = (byte*)_pin.AddrOfPinnedObject();
        try
        {
            (_header, _indexLength, _offsets, _planes) = CheckOnOpen();
        }
        catch
        {
            Release();
            throw;
        }

        (_layout, _mean, _plane, _verified) = (_header.Layout, _header.ChannelMean.ToArray(), _header.Height * _header.Width, NewVerifiedBits(_header));
        _index = _base + _header.IndexOffset;
        _payload = _base + _header.PayloadOffset;
        // 2.0's columns (1.x reads its records and never these).
        _scales = _index + _layout.ScalesAt(_header.SampleCount);
        _shifts = _index + _layout.ShiftsAt(_header.SampleCount);
        _widths = _index + _layout.WidthsAt(_header.SampleCount);
    }

    /// <summary>Header, footer and index checks of docs/format.md §8 (steps 1–5) on the mapped or pinned bytes.</summary>
    private (DqsHeader Header, int IndexLength, uint[] Offsets, PlaneShardIndex? Planes) CheckOnOpen()
    {
        if (_length < DqsConstants.FixedHeaderSize)
        {
            DqsThrowHelper.ThrowTruncated(Path, _length, DqsConstants.FixedHeaderSize, "the fixed header");
        }

        var header = DqsHeader.Read(new ReadOnlySpan<byte>(_base, (int)Math.Min(_length, DqsConstants.HeaderSize(DqsConstants.MaxChannels))), _length, Path, out var headerChecksum);
        DqsFooter.Check(Span(header.FooterOffset, DqsConstants.FooterSize), header, _length, headerChecksum, Path);
        var indexLength = checked((int)header.IndexLength);
        var index = Span(header.IndexOffset, indexLength);
        var checksum = BinaryPrimitives.ReadUInt32LittleEndian(Span(header.IndexOffset + indexLength, DqsConstants.ChecksumSize));
        if (header.IsPlanes)
        {
            var (planeOffsets, positions, model) = PlaneIndexCheck.Read(index, checksum, header, Path);
            return (header, indexLength, planeOffsets, new PlaneShardIndex(PlaneIndexLayout.For(header.Layout), positions, model));
        }

        return (header, indexLength, DqsIndexCheck.Offsets(index, checksum, header, Path), null);
    }

    /// <summary>A bit per payload checksum: per sample in 1.x, per block of samples in 2.0.</summary>
    private static int[] NewVerifiedBits(in DqsHeader header) => new int[(header.Layout.BlockCount(header.SampleCount) + 31) / 32];

    public string Path { get; }

    public DqsHeader Header => _header;

    /// <summary>Samples stored in this shard.</summary>
    public int Count => _header.SampleCount;

    public int PixelsPerSample => _header.PixelsPerSample;

    public long FileLength => _length;

    /// <summary>When false, payload checksums are left to <see cref="DqsVerifier"/> (faster decoding of trusted files).</summary>
    public bool VerifyPayloadChecksums { get; }

    public static DqsReader Open(string path, bool verifyPayloadChecksums = true) => new(path, verifyPayloadChecksums);

    /// <summary>Reads a shard held in memory (e.g. received over the network); <paramref name="name"/> appears in errors.</summary>
    public static DqsReader Open(byte[] data, string name, bool verifyPayloadChecksums = true) => new(data, name, verifyPayloadChecksums);

    public DqsSampleRecord Record(int sample)
    {
        ThrowIfPlanes();
        CheckSample(sample);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return ReadRecord(sample);
    }

    /// <summary>Bytes of the index and its checksum (version 1: 16 per sample and 4; version 2: about 4.6 per sample).</summary>
    public long IndexBytes => _indexLength + DqsConstants.ChecksumSize;

    public int Label(int sample)
    {
        if (_layout.VersionMajor == 1)
        {
            return Record(sample).Label;
        }

        CheckSample(sample);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _layout.LabelBytes == 1 ? _index[sample] : ReadUInt16(_index + (2L * sample));
    }

    public int Bits(int sample) => Record(sample).Bits;

    public QuantizationParameters Parameters(int sample) => Record(sample).Parameters;

    /// <summary>The packed codes of a sample (codec 1), checksum verified; valid while the reader is open.</summary>
    public ReadOnlySpan<byte> Payload(int sample) => Payload(sample, Record(sample));

    /// <summary>Whether the shard is coded as range-coded bit planes (codec 2, docs/format.md §14), which has no fixed-width records.</summary>
    public bool IsPlanes => _planes is not null;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Release();
    }

    private ReadOnlySpan<byte> Payload(int sample, DqsSampleRecord record)
    {
        var length = (int)(((long)PixelsPerSample * record.Bits + 7) >> 3);
        var payload = Span(_header.PayloadOffset + record.Offset, length);
        VerifyOnce(sample, payload);
        return payload;
    }

    /// <summary>An entry of a checked index: 1.x from its record, 2.0 from its columns (pointers, as every position was checked on open).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private DqsSampleRecord ReadRecord(int sample)
    {
        if (_layout.VersionMajor == 1)
        {
            return DqsIndexCodec.ReadVersion1(new ReadOnlySpan<byte>(_index, _indexLength), sample);
        }

        var label = _layout.LabelBytes == 1 ? _index[sample] : ReadUInt16(_index + (2L * sample));
        var bits = (_widths[sample >> 1] >> ((sample & 1) << 2)) & 0x0F;
        return new DqsSampleRecord(_offsets[sample], DqsScale.ToSingle(ReadUInt16(_scales + (2L * sample))), label, bits, (sbyte)_shifts[sample]);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ushort ReadUInt16(byte* at)
    {
        var value = Unsafe.ReadUnaligned<ushort>(at);
        return BitConverter.IsLittleEndian ? value : BinaryPrimitives.ReverseEndianness(value);
    }

    /// <summary>
    /// Shards are immutable once renamed into place, so a payload checked once stays checked: later epochs decode at
    /// full speed. The bit (per sample in 1.x, per checksum block in 2.0) is set only after a successful check; a race
    /// just checks twice.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void VerifyOnce(int sample, ReadOnlySpan<byte> payload)
    {
        var block = sample / _layout.ChecksumBlock;
        var bit = 1 << (block & 31);
        if (VerifyPayloadChecksums && (Volatile.Read(ref _verified[block >> 5]) & bit) == 0)
        {
            Verify(sample, block, payload);
        }
    }

    private void Verify(int sample, int block, ReadOnlySpan<byte> payload)
    {
        var index = new ReadOnlySpan<byte>(_index, _indexLength);
        if (_layout.VersionMajor == 1)
        {
            var recorded = DqsIndexCodec.Version1Checksum(index, sample);
            var actual = Crc32C.Compute(payload);
            if (actual != recorded)
            {
                DqsThrowHelper.ThrowInvalidPayload(Path, sample, $"CRC32C is {actual:X8} but the index records {recorded:X8}: the sample's codes are damaged.");
            }
        }
        else
        {
            var first = block * _layout.ChecksumBlock;
            var last = Math.Min(first + _layout.ChecksumBlock, Count) - 1;
            var end = last + 1 < Count ? _offsets[last + 1] : (uint)_header.PayloadLength;
            var recorded = _planes is { } planes
                ? BinaryPrimitives.ReadUInt32LittleEndian(index[(int)(planes.Layout.BlockChecksumsAt(Count) + (block * DqsConstants.ChecksumSize))..])
                : DqsIndexCodec.Version2BlockChecksum(index, _layout, Count, block);
            var actual = Crc32C.Compute(new ReadOnlySpan<byte>(_payload + _offsets[first], (int)(end - _offsets[first])));
            if (actual != recorded)
            {
                DqsThrowHelper.ThrowInvalidPayload(Path, sample, $"CRC32C of samples {first}..{last} is {actual:X8} but the index records {recorded:X8}: the codes of one or more of them are damaged.");
            }
        }

        Interlocked.Or(ref _verified[block >> 5], 1 << (block & 31));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ReadOnlySpan<byte> Span(long offset, int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (offset < 0 || length < 0 || offset + length > _length)
        {
            DqsThrowHelper.ThrowTruncated(Path, _length, offset + length, "a read");
        }

        return new ReadOnlySpan<byte>(_base + offset, length);
    }

    private void CheckSample(int sample)
    {
        if ((uint)sample >= (uint)_header.SampleCount)
        {
            throw new ArgumentOutOfRangeException(nameof(sample), sample, $"{Path} holds {_header.SampleCount} samples.");
        }
    }

    private void Release()
    {
        if (_pin.IsAllocated)
        {
            _pin.Free();
        }

        if (_view is not null)
        {
            if (_base is not null)
            {
                _view.SafeMemoryMappedViewHandle.ReleasePointer();
            }

            _view.Dispose();
        }

        _map?.Dispose();
    }
}
