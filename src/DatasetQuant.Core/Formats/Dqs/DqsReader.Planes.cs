using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Core.Formats.Dqs.Planes;
using DatasetQuant.Core.Quantization.Planes;

namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>What opening a planes shard (codec 2) found besides the offsets: its columns, where each sample's lengths start, the model.</summary>
internal sealed class PlaneShardIndex(PlaneIndexLayout layout, uint[] lengthPositions, PlaneProbabilities model)
{
    public PlaneIndexLayout Layout { get; } = layout;

    public uint[] LengthPositions { get; } = lengthPositions;

    public PlaneProbabilities Model { get; } = model;
}

/// <summary>
/// Codec 2 (docs/format.md §14): each sample's planes are range-decoded into its 8-bit codes' top bits, and each cell
/// reconstructed from the sample's grid. Serial where codec 1 is SIMD (every bit's context depends on the bits before
/// it); scratch comes from the shared array pool, so decoding allocates nothing once warm.
/// </summary>
public sealed unsafe partial class DqsReader
{
    /// <summary>Codec 2: the planes a sample stores (1..8).</summary>
    public int Planes(int sample)
    {
        var planes = RequirePlanes();
        CheckSample(sample);
        return PlaneIndexCheck.Planes(IndexSpan, planes.Layout, Count, sample);
    }

    /// <summary>Codec 2: a sample's grid (threshold and step code).</summary>
    public PlaneGrid Grid(int sample)
    {
        var planes = RequirePlanes();
        CheckSample(sample);
        return PlaneIndexCheck.Grid(IndexSpan, planes.Layout, Count, sample);
    }

    /// <summary>Codec 2: the bytes each of a sample's planes takes in the payload, most significant plane first.</summary>
    public void SegmentLengths(int sample, Span<int> lengths)
    {
        var planes = RequirePlanes();
        CheckSample(sample);
        var index = IndexSpan;
        var position = (int)planes.LengthPositions[sample];
        var count = PlaneIndexCheck.Planes(index, planes.Layout, Count, sample);
        for (var k = 0; k < count; k++)
        {
            lengths[k] = (int)PlaneIndexCheck.ReadVarint(index, ref position, Path, sample);
        }
    }

    /// <summary>Codec 2: the set's model, as this shard carries it.</summary>
    public PlaneProbabilities PlaneModel => RequirePlanes().Model;

    /// <summary>
    /// Codec 2: a sample's segments, back to back (checksum verified; valid while the reader is open), and each plane's
    /// length in <paramref name="lengths"/>, most significant first; returns the plane count.
    /// </summary>
    public ReadOnlySpan<byte> PlaneSegments(int sample, Span<int> lengths, out int planes)
    {
        SegmentLengths(sample, lengths);
        planes = Planes(sample);
        var end = sample + 1 < Count ? _offsets[sample + 1] : (uint)_header.PayloadLength;
        var payload = new ReadOnlySpan<byte>(_payload + _offsets[sample], (int)(end - _offsets[sample]));
        VerifyOnce(sample, payload);
        return payload;
    }

    /// <summary>Codec 2: a sample's 8-bit codes, its stored planes in the top bits and zeros below; checksum verified.</summary>
    public void ReadPlaneCodes(int sample, Span<byte> codes)
    {
        var planes = RequirePlanes();
        CheckSample(sample);
        if (codes.Length < PixelsPerSample)
        {
            throw new ArgumentException($"decoding needs {PixelsPerSample} bytes; got {codes.Length}.", nameof(codes));
        }

        var index = IndexSpan;
        var count = PlaneIndexCheck.Planes(index, planes.Layout, Count, sample);
        var end = sample + 1 < Count ? _offsets[sample + 1] : (uint)_header.PayloadLength;
        var payload = new ReadOnlySpan<byte>(_payload + _offsets[sample], (int)(end - _offsets[sample]));
        VerifyOnce(sample, payload);
        codes = codes[..PixelsPerSample];
        codes.Clear();
        var position = (int)planes.LengthPositions[sample];
        for (var k = 0; k < count; k++)
        {
            var length = (int)PlaneIndexCheck.ReadVarint(index, ref position, Path, sample);
            var decoder = new BinaryRangeDecoder(payload[..length]);
            PlaneCoder.DecodePlane(ref decoder, codes, _header.Channels, _header.Height, _header.Width, PlaneCoder.Planes - 1 - k, planes.Model);
            payload = payload[length..];
        }
    }

    private void DecodePlanes(int sample, Span<float> destination, DqsNormalization normalization)
    {
        var planes = PlaneIndexCheck.Planes(IndexSpan, _planes!.Layout, Count, sample);
        var grid = PlaneIndexCheck.Grid(IndexSpan, _planes.Layout, Count, sample);
        var codes = ArrayPool<byte>.Shared.Rent(PixelsPerSample);
        try
        {
            ReadPlaneCodes(sample, codes);
            Span<float> cells = stackalloc float[1 << PlaneCoder.Planes];
            var dropped = PlaneCoder.Planes - planes;
            for (var cell = 0; cell < 1 << planes; cell++)
            {
                cells[cell] = grid.Cell(cell, planes);
            }

            var multipliers = normalization.MultiplierArray;
            var addends = normalization.AddendArray;
            for (var c = 0; c < multipliers.Length; c++)
            {
                var (a, b) = (multipliers[c], addends[c]);
                var target = destination.Slice(c * _plane, _plane);
                var source = codes.AsSpan(c * _plane, _plane);
                for (var p = 0; p < target.Length; p++)
                {
                    target[p] = (cells[source[p] >> dropped] * a) + b;
                }
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(codes);
        }
    }

    private void DecodePlanes(int sample, Span<byte> destination)
    {
        var planes = PlaneIndexCheck.Planes(IndexSpan, _planes!.Layout, Count, sample);
        var grid = PlaneIndexCheck.Grid(IndexSpan, _planes.Layout, Count, sample);
        ReadPlaneCodes(sample, destination);
        Span<byte> cells = stackalloc byte[1 << PlaneCoder.Planes];
        var dropped = PlaneCoder.Planes - planes;
        for (var cell = 0; cell < 1 << planes; cell++)
        {
            cells[cell] = (byte)MathF.Floor(grid.Cell(cell, planes) + 0.5f);
        }

        destination = destination[..PixelsPerSample];
        for (var p = 0; p < destination.Length; p++)
        {
            destination[p] = cells[destination[p] >> dropped];
        }
    }

    private ReadOnlySpan<byte> IndexSpan
    {
        get
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            return new ReadOnlySpan<byte>(_index, _indexLength);
        }
    }

    private PlaneShardIndex RequirePlanes()
    {
        if (_planes is null)
        {
            ThrowCodec("has no planes: it is coded with codec 1 (fixed-width records)");
        }

        return _planes;
    }

    private void ThrowIfPlanes()
    {
        if (_planes is not null)
        {
            ThrowCodec("has no fixed-width records: it is coded as range-coded bit planes (codec 2); decode it, or quantize the set again with --codes refit");
        }
    }

    [DoesNotReturn]
    private void ThrowCodec(string what) => throw new NotSupportedException($"{Path} {what}.");
}
