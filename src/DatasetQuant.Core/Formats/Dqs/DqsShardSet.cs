namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// Several shards of one dataset read as one sequence of stored samples (in source order). Paths may name shards or
/// folders (all <c>*.dqs</c> inside, by name). The shards must agree on shape, classes and channel statistics.
/// </summary>
public sealed class DqsShardSet : IDisposable
{
    private readonly DqsReader[] _readers;
    private readonly int[] _starts;

    private DqsShardSet(DqsReader[] readers)
    {
        _readers = readers;
        _starts = new int[readers.Length + 1];
        for (var s = 0; s < readers.Length; s++)
        {
            _starts[s + 1] = checked(_starts[s] + readers[s].Count);
        }
    }

    public IReadOnlyList<DqsReader> Shards => _readers;

    public int Count => _starts[^1];

    public DqsHeader Header => _readers[0].Header;

    public int PixelsPerSample => _readers[0].PixelsPerSample;

    /// <summary>Source samples the set covers, dropped ones included.</summary>
    public long SourceCount
    {
        get
        {
            long count = 0;
            foreach (var reader in _readers)
            {
                count += reader.Header.SourceCount;
            }

            return count;
        }
    }

    public static DqsShardSet Open(IEnumerable<string> paths, bool verifyPayloadChecksums = true)
    {
        var files = ExpandPaths(paths);
        if (files.Count == 0)
        {
            throw new FileNotFoundException($"no .dqs shards in {string.Join(", ", paths)}.");
        }

        var readers = new List<DqsReader>();
        try
        {
            foreach (var file in files)
            {
                readers.Add(DqsReader.Open(file, verifyPayloadChecksums));
            }

            readers.Sort((a, b) => a.Header.FirstSourceIndex.CompareTo(b.Header.FirstSourceIndex));
            var headers = new (string Path, DqsHeader Header)[readers.Count];
            for (var r = 0; r < headers.Length; r++)
            {
                headers[r] = (readers[r].Path, readers[r].Header);
            }

            var problems = CheckConsistency(headers, requireComplete: false);
            if (problems.Count > 0)
            {
                throw new DqsFormatException(readers[0].Path, null, null, string.Join(" ", problems));
            }

            return new DqsShardSet([.. readers]);
        }
        catch
        {
            foreach (var reader in readers)
            {
                reader.Dispose();
            }

            throw;
        }
    }

    /// <summary>Shard files named by <paramref name="paths"/>: files as given, folders as their *.dqs files sorted by name.</summary>
    public static IReadOnlyList<string> ExpandPaths(IEnumerable<string> paths)
    {
        var files = new List<string>();
        foreach (var path in paths)
        {
            if (Directory.Exists(path))
            {
                var found = Directory.GetFiles(path, "*" + DqsConstants.FileExtension);
                Array.Sort(found, StringComparer.Ordinal);
                files.AddRange(found);
            }
            else
            {
                files.Add(path);
            }
        }

        return files;
    }

    /// <summary>Which shard holds stored sample <paramref name="index"/>, and where in it.</summary>
    public (DqsReader Shard, int Sample) Locate(int index)
    {
        if ((uint)index >= (uint)Count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"the set holds {Count} samples.");
        }

        var s = Array.BinarySearch(_starts, index);
        s = s >= 0 ? s : ~s - 1;
        while (_starts[s + 1] <= index)
        {
            s++;
        }

        return (_readers[s], index - _starts[s]);
    }

    public int Label(int index)
    {
        var (shard, sample) = Locate(index);
        return shard.Label(sample);
    }

    public void Decode(int index, Span<float> destination, DqsNormalization normalization)
    {
        var (shard, sample) = Locate(index);
        shard.Decode(sample, destination, normalization);
    }

    public void Decode(int index, Span<byte> destination)
    {
        var (shard, sample) = Locate(index);
        shard.Decode(sample, destination);
    }

    /// <summary>Decodes the samples <paramref name="indices"/> into consecutive CHW blocks, and their labels.</summary>
    public void DecodeBatch(ReadOnlySpan<int> indices, Span<float> destination, Span<int> labels, DqsNormalization normalization)
    {
        var pixels = PixelsPerSample;
        if (destination.Length < (long)indices.Length * pixels || labels.Length < indices.Length)
        {
            throw new ArgumentException($"a batch of {indices.Length} needs {(long)indices.Length * pixels} floats and {indices.Length} labels.");
        }

        for (var k = 0; k < indices.Length; k++)
        {
            var (shard, sample) = Locate(indices[k]);
            shard.Decode(sample, destination.Slice(k * pixels, pixels), normalization);
            labels[k] = shard.Label(sample);
        }
    }

    public void Dispose()
    {
        foreach (var reader in _readers)
        {
            reader.Dispose();
        }
    }

    internal static List<string> CheckConsistency(IReadOnlyList<(string Path, DqsHeader Header)> shards, bool requireComplete = true)
    {
        var problems = new List<string>();
        if (shards.Count == 0)
        {
            return problems;
        }

        var (firstPath, first) = shards[0];
        for (var s = 1; s < shards.Count; s++)
        {
            var (path, header) = shards[s];
            if (header.Channels != first.Channels || header.Height != first.Height || header.Width != first.Width || header.ClassCount != first.ClassCount)
            {
                problems.Add($"{path}: shape {header.Channels}×{header.Height}×{header.Width} with {header.ClassCount} classes differs from {firstPath} ({first.Channels}×{first.Height}×{first.Width}, {first.ClassCount} classes).");
            }
            else if (!SameValues(header.ChannelMean, first.ChannelMean) || !SameValues(header.ChannelStandardDeviation, first.ChannelStandardDeviation))
            {
                problems.Add($"{path}: channel statistics differ from {firstPath}; the shards come from different datasets.");
            }

            if (header.ShardCount != first.ShardCount)
            {
                problems.Add($"{path}: header.shardCount is {header.ShardCount} but {firstPath} says {first.ShardCount}.");
            }
        }

        // Loops rather than LINQ here: this runs on devices, and each LINQ shape over these tuples is a kilobyte of dq-agent.
        var ordered = new (string Path, DqsHeader Header)[shards.Count];
        for (var s = 0; s < ordered.Length; s++)
        {
            ordered[s] = shards[s];
        }

        Array.Sort(ordered, static (a, b) => a.Header.FirstSourceIndex.CompareTo(b.Header.FirstSourceIndex));
        for (var k = 1; k < ordered.Length; k++)
        {
            var previous = ordered[k - 1].Header;
            if (previous.FirstSourceIndex + previous.SourceCount > ordered[k].Header.FirstSourceIndex)
            {
                problems.Add($"{ordered[k].Path}: source samples from {ordered[k].Header.FirstSourceIndex} overlap {ordered[k - 1].Path}.");
            }
        }

        if (requireComplete)
        {
            if (shards.Count != first.ShardCount)
            {
                problems.Add($"{firstPath}: the set declares {first.ShardCount} shards but {shards.Count} were given.");
            }

            for (var k = 0; k < ordered.Length; k++)
            {
                var expectedStart = k == 0 ? 0 : ordered[k - 1].Header.FirstSourceIndex + ordered[k - 1].Header.SourceCount;
                if (ordered[k].Header.FirstSourceIndex != expectedStart)
                {
                    problems.Add($"{ordered[k].Path}: starts at source sample {ordered[k].Header.FirstSourceIndex}, expected {expectedStart} (a shard is missing).");
                }

                if (ordered[k].Header.ShardIndex != k && shards.Count == first.ShardCount)
                {
                    problems.Add($"{ordered[k].Path}: header.shardIndex is {ordered[k].Header.ShardIndex}, expected {k}.");
                }
            }
        }

        return problems;
    }

    private static bool SameValues(IReadOnlyList<float> a, IReadOnlyList<float> b)
    {
        if (a.Count != b.Count)
        {
            return false;
        }

        for (var i = 0; i < a.Count; i++)
        {
            if (a[i] != b[i])
            {
                return false;
            }
        }

        return true;
    }
}
