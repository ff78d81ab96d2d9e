using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Core.Quantization.Planes;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Core.Formats.Dqs.Planes;

/// <summary>
/// What a reader checks of a planes shard's index when it opens it (docs/format.md §14): the checksum, every sample's
/// label, grid and plane count, the probability table, and that the segment lengths are whole varints that tile the
/// payload and end exactly where the index does. Returns where each sample's segments start in the payload and where its
/// lengths start in the index, so that decoding finds both in O(1).
/// </summary>
internal static class PlaneIndexCheck
{
    public static (uint[] Offsets, uint[] LengthPositions, PlaneProbabilities Model) Read(ReadOnlySpan<byte> index, uint recordedChecksum, in DqsHeader header, string path)
    {
        var count = header.SampleCount;
        var layout = PlaneIndexLayout.For(header.Layout);
        var actual = Crc32C.Compute(index);
        if (actual != recordedChecksum)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, $"CRC32C is {actual:X8} but the file records {recordedChecksum:X8}: the index is damaged.");
        }

        if ((count & 1) == 1 && index[(int)layout.PlanesAt(count) + (count >> 1)] >> 4 != 0)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, "the unused high half of the last planes byte is not zero.");
        }

        var model = PlaneProbabilities.Read(index[(int)layout.ModelAt(count)..], out var bad);
        if (model is null)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, $"probability {bad} (plane bit {bad / PlaneCoder.Contexts}, context {bad % PlaneCoder.Contexts}) is outside 1..{Quantization.Planes.BinaryRangeEncoder.ProbabilityOne - 1}.");
        }

        // The header's length check gives every sample at least one index byte of its own, so these arrays are never
        // larger than the file.
        var offsets = new uint[count];
        var positions = new uint[count];
        var bound = PlaneCoder.SegmentBound(header.PixelsPerSample);
        var position = (int)layout.LengthsAt(count);
        long offset = 0;
        for (var i = 0; i < count; i++)
        {
            var grid = Grid(index, layout, count, i);
            var label = Label(index, layout, i);
            var planes = Planes(index, layout, count, i);
            if (label >= header.ClassCount || !grid.IsValid || planes is < 1 or > PlaneCoder.Planes)
            {
                ThrowInvalidSample(path, i, label, header.ClassCount, grid, planes);
            }

            offsets[i] = (uint)offset;
            positions[i] = (uint)position;
            for (var k = 0; k < planes; k++)
            {
                var length = ReadVarint(index, ref position, path, i);
                if (length > bound)
                {
                    ThrowLength(path, i, k + 1, length, bound);
                }

                offset += length;
            }

            if (offset > header.PayloadLength)
            {
                ThrowLength(path, i, 0, offset, header.PayloadLength);
            }
        }

        if (offset != header.PayloadLength)
        {
            DqsThrowHelper.ThrowInvalidHeader(path, "payloadLength", $"{header.PayloadLength} bytes but the index describes {offset}.");
        }

        if (position != index.Length)
        {
            DqsThrowHelper.ThrowInvalidIndex(path, $"{index.Length - position} bytes follow the last segment length.");
        }

        return (offsets, positions, model);
    }

    [DoesNotReturn]
    private static void ThrowInvalidSample(string path, int sample, int label, int classCount, PlaneGrid grid, int planes)
    {
        if (label >= classCount)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "label", $"{label} is outside [0, {classCount}).");
        }

        if (!grid.IsValid)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "stepCode", $"{grid.StepCode} is above {PlaneGrid.MaxStepCode}.");
        }

        DqsThrowHelper.ThrowInvalidRecord(path, sample, "planes", $"{planes} is outside 1..{PlaneCoder.Planes}.");
    }

    /// <summary>Plane <paramref name="plane"/>'s <paramref name="value"/> bytes past the coder's <paramref name="limit"/>; plane 0: the running sum past the payload.</summary>
    [DoesNotReturn]
    private static void ThrowLength(string path, int sample, int plane, long value, long limit) => DqsThrowHelper.ThrowInvalidRecord(path, sample, "segmentLength", plane > 0
        ? $"plane {plane}'s {value} bytes is more than the coder writes for the shard's pixels ({limit})."
        : $"the samples up to this one need {value} payload bytes but the header declares {limit}.");

    public static int Label(ReadOnlySpan<byte> index, in PlaneIndexLayout layout, int sample) =>
        layout.LabelBytes == 1 ? index[sample] : BinaryPrimitives.ReadUInt16LittleEndian(index[(2 * sample)..]);

    public static PlaneGrid Grid(ReadOnlySpan<byte> index, in PlaneIndexLayout layout, int count, int sample) =>
        new(index[(int)layout.ThresholdsAt(count) + sample], index[(int)layout.StepCodesAt(count) + sample]);

    public static int Planes(ReadOnlySpan<byte> index, in PlaneIndexLayout layout, int count, int sample) =>
        (index[(int)layout.PlanesAt(count) + (sample >> 1)] >> ((sample & 1) << 2)) & 0x0F;

    /// <summary>A LEB128 varint of at most 5 bytes and 32 bits, refused naming the sample when it is not one or runs past the index.</summary>
    public static uint ReadVarint(ReadOnlySpan<byte> index, ref int position, string path, int sample)
    {
        var value = Leb128.Read(index, ref position, index.Length);
        if (value is null)
        {
            DqsThrowHelper.ThrowInvalidRecord(path, sample, "segmentLength", $"not a varint of at most {Leb128.MaxBytes} bytes and 32 bits before the index ends.");
        }

        return value.Value;
    }
}
