using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Formats.Dqs.Planes;

/// <summary>
/// Writes one planes shard (codec 2, docs/format.md §14). Samples arrive as their grid and segments; the index's size
/// depends on the segment lengths, so index and payload are kept in memory (a shard is at most the set's shard size) and
/// the file is written on <see cref="Commit"/>, atomically (temp file, fsync, rename, fsync of the folder).
/// </summary>
public sealed class PlaneShardWriter : IDisposable
{
    private readonly AtomicFileWriter _file;
    private readonly DqsHeader _template;
    private readonly PlaneIndexLayout _layout;
    private readonly byte[] _fixedIndex;
    private readonly ArrayBufferWriter<byte> _lengths = new();
    private readonly ArrayBufferWriter<byte> _payload = new();
    private int _written;
    private int _blockStart;

    /// <param name="template">Everything but the payload length and codec, which the writer sets.</param>
    public PlaneShardWriter(string path, DqsHeader template, PlaneProbabilities model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (template.Channels is < 1 or > DqsConstants.MaxChannels || template.Height is < 1 or > DqsConstants.MaxSide
            || template.Width is < 1 or > DqsConstants.MaxSide || template.ClassCount is < 1 or > DqsConstants.MaxClassCount
            || template.SampleCount < 0 || template.SampleCount > template.SourceCount || template.ShardIndex >= template.ShardCount)
        {
            ThrowInvalidTemplate(path, template);
        }

        _template = template;
        _layout = PlaneIndexLayout.For(DqsIndexLayout.Current(template.Channels, template.ClassCount, template.PixelsPerSample));
        _fixedIndex = new byte[checked((int)_layout.LengthsAt(template.SampleCount))];
        model.Write(_fixedIndex.AsSpan((int)_layout.ModelAt(template.SampleCount)));
        _file = new AtomicFileWriter(path);
    }

    public string Path => _file.Path;

    public int Written => _written;

    /// <summary>Appends the next sample: its label, grid, and its planes' segments (<paramref name="lengths"/>, most significant first) back to back.</summary>
    public void Append(int label, PlaneGrid grid, ReadOnlySpan<int> lengths, ReadOnlySpan<byte> segments)
    {
        var n = _template.SampleCount;
        if (_written >= n)
        {
            throw new InvalidOperationException($"{Path}: the shard was declared with {n} samples.");
        }

        var total = 0L;
        foreach (var length in lengths)
        {
            total += length;
        }

        if ((uint)label >= (uint)_template.ClassCount || lengths.Length is < 1 or > PlaneCoder.Planes || total != segments.Length
            || !grid.IsValid || _payload.WrittenCount + total > uint.MaxValue)
        {
            ThrowInvalidSample(label, lengths.Length, total, segments.Length, grid);
        }

        var index = _fixedIndex.AsSpan();
        if (_layout.LabelBytes == 1)
        {
            index[_written] = (byte)label;
        }
        else
        {
            BinaryPrimitives.WriteUInt16LittleEndian(index[(2 * _written)..], (ushort)label);
        }

        index[(int)_layout.ThresholdsAt(n) + _written] = grid.Threshold;
        index[(int)_layout.StepCodesAt(n) + _written] = grid.StepCode;
        ref var nibbles = ref index[(int)_layout.PlanesAt(n) + (_written >> 1)];
        nibbles = (byte)((_written & 1) == 0 ? (nibbles & 0xF0) | lengths.Length : (nibbles & 0x0F) | (lengths.Length << 4));
        foreach (var length in lengths)
        {
            WriteVarint(_lengths, (uint)length);
        }

        _payload.Write(segments);
        _written++;
        if (_written % _layout.ChecksumBlock == 0 || _written == n)
        {
            var block = (_written - 1) / _layout.ChecksumBlock;
            var crc = Crc32C.Compute(_payload.WrittenSpan[_blockStart..]);
            BinaryPrimitives.WriteUInt32LittleEndian(index[(int)(_layout.BlockChecksumsAt(n) + (block * DqsConstants.ChecksumSize))..], crc);
            _blockStart = _payload.WrittenCount;
        }
    }

    public void Commit()
    {
        if (_written != _template.SampleCount)
        {
            throw new InvalidOperationException($"{Path}: {_written} of the {_template.SampleCount} declared samples were written.");
        }

        var indexLength = _fixedIndex.Length + _lengths.WrittenCount;
        var header = new DqsHeader(_template.Channels, _template.Height, _template.Width, _template.ClassCount, _template.SampleCount,
            _template.ShardIndex, _template.ShardCount, _template.FirstSourceIndex, _template.SourceCount, _payload.WrittenCount,
            _template.ChannelMean.ToArray(), _template.ChannelStandardDeviation.ToArray())
        {
            Codec = DqsConstants.CodecPlanes,
            PlaneIndexLength = indexLength,
        };
        var headerBytes = new byte[header.HeaderSize];
        var headerChecksum = header.Write(headerBytes);
        var crc = Crc32C.Append(Crc32C.Append(uint.MaxValue, _fixedIndex), _lengths.WrittenSpan);
        Span<byte> indexChecksum = stackalloc byte[DqsConstants.ChecksumSize];
        BinaryPrimitives.WriteUInt32LittleEndian(indexChecksum, ~crc);
        Span<byte> footer = stackalloc byte[DqsConstants.FooterSize];
        DqsFooter.Write(footer, header.SampleCount, header.FileLength, headerChecksum);
        var stream = _file.Stream;
        stream.SetLength(0);
        stream.Write(headerBytes);
        stream.Write(_fixedIndex);
        stream.Write(_lengths.WrittenSpan);
        stream.Write(indexChecksum);
        stream.Write(_payload.WrittenSpan);
        stream.Write(footer);
        _file.Commit();
    }

    public void Dispose() => _file.Dispose();

    [DoesNotReturn]
    private static void ThrowInvalidTemplate(string path, in DqsHeader template) =>
        throw new ArgumentException($"{path}: the header describes no valid shard ({template.Channels}×{template.Height}×{template.Width}, " +
            $"{template.ClassCount} classes, {template.SampleCount} of {template.SourceCount} samples, shard {template.ShardIndex} of {template.ShardCount}).", nameof(template));

    [DoesNotReturn]
    private void ThrowInvalidSample(int label, int planes, long total, int segments, PlaneGrid grid)
    {
        if (_payload.WrittenCount + total > uint.MaxValue)
        {
            throw new InvalidOperationException($"{Path}: a shard's payload is limited to 4 GiB; use a smaller shard size.");
        }

        throw new ArgumentException($"{Path}: sample {_written} has label {label}, {planes} planes of {total} bytes in {segments}, step code {grid.StepCode}; " +
            $"labels are below {_template.ClassCount}, planes 1..8, and a grid's step code at most {PlaneGrid.MaxStepCode}.");
    }

    private static void WriteVarint(ArrayBufferWriter<byte> output, uint value) => output.Advance(Leb128.Write(output.GetSpan(Leb128.MaxBytes), value));
}
