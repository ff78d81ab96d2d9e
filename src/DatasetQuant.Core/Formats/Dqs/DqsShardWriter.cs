using System.Buffers.Binary;
using DatasetQuant.Core.IO;
using DatasetQuant.Core.Quantization;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Writes one shard: room for header and index first, then the payload as samples arrive, then the footer, the header
/// and the index with their checksums. The file appears under its name only on <see cref="Commit"/>, complete and
/// fsynced (temp file, fsync, rename, fsync of the folder); disposing without committing leaves the old file, if any.
/// Writes the template's version: 2.0 unless it says 1 (then 1.1), which only a copy of a 1.x shard whose scales
/// binary16 cannot hold needs.
/// </summary>
public sealed class DqsShardWriter : IDisposable
{
    private readonly AtomicFileWriter _file;
    private readonly DqsHeader _template;
    private readonly DqsIndexLayout _layout;
    private readonly byte[] _index;
    private readonly int _pixels;
    private int _written;
    private long _payloadLength;
    private uint _blockCrc = uint.MaxValue;

    /// <param name="template">Everything but <see cref="DqsHeader.PayloadLength"/>, which the writer counts.</param>
    public DqsShardWriter(string path, DqsHeader template)
    {
        if (template.Channels is < 1 or > DqsConstants.MaxChannels || template.Height is < 1 or > DqsConstants.MaxSide
            || template.Width is < 1 or > DqsConstants.MaxSide || template.ClassCount is < 1 or > DqsConstants.MaxClassCount
            || template.SampleCount < 0 || template.SampleCount > template.SourceCount || template.ShardIndex >= template.ShardCount
            || template.VersionMajor is not (1 or 2))
        {
            throw new ArgumentException($"{path}: the header describes no valid shard ({template.Channels}×{template.Height}×{template.Width}, " +
                $"{template.ClassCount} classes, {template.SampleCount} of {template.SourceCount} samples, shard {template.ShardIndex} of {template.ShardCount}, version {template.VersionMajor}).", nameof(template));
        }

        _template = template;
        _layout = template.Layout;
        _pixels = template.PixelsPerSample;
        _index = new byte[checked((int)template.IndexLength)];
        _file = new AtomicFileWriter(path);
        _file.Stream.SetLength(0);
        _file.Stream.Position = template.HeaderSize + _index.Length + DqsConstants.ChecksumSize;
    }

    public string Path => _file.Path;

    public int Written => _written;

    public long PayloadLength => _payloadLength;

    /// <summary>Appends the next sample's packed codes (exactly ceil(pixels·bits/8) bytes).</summary>
    public void Append(int label, int bits, QuantizationParameters parameters, ReadOnlySpan<byte> packed)
    {
        if (_written >= _template.SampleCount)
        {
            throw new InvalidOperationException($"{Path}: the shard was declared with {_template.SampleCount} samples.");
        }

        if (bits is < 1 or > 8 || (uint)label >= (uint)_template.ClassCount || !parameters.IsValid || parameters.Scale > DqsConstants.MaxScale)
        {
            throw new ArgumentException($"{Path}: sample {_written} has width {bits}, label {label}, {parameters}; widths are 1..8, labels below {_template.ClassCount}, scales positive up to {DqsConstants.MaxScale}, shifts in [{QuantizationParameters.MinShift}, {QuantizationParameters.MaxShift}].");
        }

        if (_layout.VersionMajor == 2 && !DqsScale.IsExact(parameters.Scale))
        {
            throw new ArgumentException($"{Path}: sample {_written} has scale {parameters.Scale}, which a version 2 index (binary16) cannot hold exactly; fit codes with DqsScale.Round'ed scales.");
        }

        var length = (int)(((long)_pixels * bits + 7) >> 3);
        if (packed.Length != length)
        {
            throw new ArgumentException($"{Path}: sample {_written} at {bits} bits needs {length} payload bytes, got {packed.Length}.", nameof(packed));
        }

        if (_payloadLength + length > uint.MaxValue)
        {
            throw new InvalidOperationException($"{Path}: a shard's payload is limited to 4 GiB; use a smaller shard size.");
        }

        if (_layout.VersionMajor == 1)
        {
            DqsIndexCodec.WriteVersion1(_index, _written, new DqsSampleRecord((uint)_payloadLength, parameters.Scale, label, bits, parameters.Shift), Crc32C.Compute(packed));
        }
        else
        {
            DqsIndexCodec.WriteVersion2(_index, _layout, _template.SampleCount, _written, label, bits, parameters);
            _blockCrc = Crc32C.Append(_blockCrc, packed);
            if ((_written + 1) % _layout.ChecksumBlock == 0 || _written + 1 == _template.SampleCount)
            {
                BinaryPrimitives.WriteUInt32LittleEndian(DqsIndexCodec.Version2BlockChecksumSlot(_index, _layout, _template.SampleCount, _written / _layout.ChecksumBlock), ~_blockCrc);
                _blockCrc = uint.MaxValue;
            }
        }

        _file.Stream.Write(packed);
        _payloadLength += length;
        _written++;
    }

    public void Commit()
    {
        if (_written != _template.SampleCount)
        {
            throw new InvalidOperationException($"{Path}: {_written} of the {_template.SampleCount} declared samples were written.");
        }

        var header = new DqsHeader(_template.Channels, _template.Height, _template.Width, _template.ClassCount, _template.SampleCount,
            _template.ShardIndex, _template.ShardCount, _template.FirstSourceIndex, _template.SourceCount, _payloadLength,
            _template.ChannelMean.ToArray(), _template.ChannelStandardDeviation.ToArray())
        {
            VersionMajor = _template.VersionMajor,
        };
        var headerBytes = new byte[header.HeaderSize];
        var headerChecksum = header.Write(headerBytes);
        Span<byte> footer = stackalloc byte[DqsConstants.FooterSize];
        DqsFooter.Write(footer, header.SampleCount, header.FileLength, headerChecksum);
        var stream = _file.Stream;
        stream.Write(footer);
        stream.Position = 0;
        stream.Write(headerBytes);
        stream.Write(_index);
        Span<byte> indexChecksum = stackalloc byte[DqsConstants.ChecksumSize];
        BinaryPrimitives.WriteUInt32LittleEndian(indexChecksum, Crc32C.Compute(_index));
        stream.Write(indexChecksum);
        _file.Commit();
    }

    public void Dispose() => _file.Dispose();
}
