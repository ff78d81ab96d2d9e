namespace DatasetQuant.Core.Quantization;

/// <summary>
/// The checks on <see cref="AllocationProblem.SampleBytes"/>. A table that breaks them would not fail loudly inside an
/// allocator: a negative step makes a hull segment's slope negative and the greedy takes it last or spends bytes it
/// then counts as freed, and a dropped sample that costs bytes makes "drop" no longer the free fallback every
/// allocator's budget check relies on. So the table is refused where it is set, naming the entry.
/// </summary>
internal static class SampleByteTable
{
    /// <summary>Throws unless <paramref name="table"/> is empty or holds count×9 costs, 0 at width 0 and non-decreasing.</summary>
    public static void Validate(ReadOnlySpan<long> table, int count)
    {
        if (table.IsEmpty)
        {
            return;
        }

        var expected = (long)count * SampleQuantizer.WidthCount;
        if (table.Length != expected)
        {
            throw new ArgumentException(
                $"per-sample byte costs need {SampleQuantizer.WidthCount} per sample ({expected} for {count} samples), got {table.Length}.",
                nameof(AllocationProblem.SampleBytes));
        }

        for (var i = 0; i < count; i++)
        {
            var row = table.Slice(i * SampleQuantizer.WidthCount, SampleQuantizer.WidthCount);
            if (row[0] != 0)
            {
                throw new ArgumentException(
                    $"sample {i} costs {row[0]} bytes at width 0; a dropped sample costs nothing.", nameof(AllocationProblem.SampleBytes));
            }

            for (var b = 1; b < row.Length; b++)
            {
                if (row[b] < row[b - 1])
                {
                    throw new ArgumentException(
                        $"sample {i} costs {row[b]} bytes at width {b}, less than {row[b - 1]} at width {b - 1}; costs must not fall as the width grows.",
                        nameof(AllocationProblem.SampleBytes));
                }
            }
        }
    }

    /// <summary>
    /// The table that prices every sample as an empty <see cref="AllocationProblem.SampleBytes"/> does (packed bytes plus
    /// <paramref name="recordBytes"/>, 0 when dropped): a codec that only sometimes measures its sizes can pass this for
    /// the rest and be allocated the same.
    /// </summary>
    public static long[] Packed(int count, int pixelsPerSample, int recordBytes)
    {
        var table = new long[count * SampleQuantizer.WidthCount];
        for (var i = 0; i < count; i++)
        {
            for (var b = 1; b < SampleQuantizer.WidthCount; b++)
            {
                table[(i * SampleQuantizer.WidthCount) + b] = SampleQuantizer.PackedBytes(pixelsPerSample, b) + recordBytes;
            }
        }

        return table;
    }
}
