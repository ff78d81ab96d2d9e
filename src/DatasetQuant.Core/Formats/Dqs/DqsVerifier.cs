namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>What <see cref="DqsVerifier"/> found in one shard: nothing, or messages naming the file and the field or sample.</summary>
public sealed record DqsVerification(string Path, IReadOnlyList<string> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// Checks everything a shard promises: header, footer and index checksums and fields (as opening a reader does), every
/// payload checksum (per sample in 1.x, per block of samples in 2.0), and zero padding bits. Every byte of a shard is covered by one of these checks, so any
/// single damaged byte is found. For a set, also that the shards agree on shape and statistics and tile the source.
/// </summary>
public static class DqsVerifier
{
    public static DqsVerification Verify(string path) => Verify(path, () => DqsReader.Open(path, verifyPayloadChecksums: true));

    /// <summary>Verifies a shard held in memory; <paramref name="name"/> appears in the messages.</summary>
    public static DqsVerification Verify(byte[] data, string name) => Verify(name, () => DqsReader.Open(data, name, verifyPayloadChecksums: true));

    private static DqsVerification Verify(string path, Func<DqsReader> open)
    {
        var problems = new List<string>();
        try
        {
            using var reader = open();
            var codes = reader.IsPlanes ? new byte[reader.PixelsPerSample] : [];
            for (var i = 0; i < reader.Count; i++)
            {
                try
                {
                    if (reader.IsPlanes)
                    {
                        // Its block's checksum; a planes segment has no padding bits to check (any bytes decode).
                        reader.ReadPlaneCodes(i, codes);
                        continue;
                    }

                    var record = reader.Record(i);
                    var payload = reader.Payload(i);
                    var usedBits = (int)((long)reader.PixelsPerSample * record.Bits % 8);
                    if (usedBits != 0 && (payload[^1] >> usedBits) != 0)
                    {
                        problems.Add(new DqsFormatException(path, "payload", i, "padding bits after the last code are not zero.").Message);
                    }
                }
                catch (DqsFormatException ex)
                {
                    problems.Add(ex.Message);
                }
            }
        }
        catch (DqsFormatException ex)
        {
            problems.Add(ex.Message);
        }
        catch (FileNotFoundException ex)
        {
            problems.Add(ex.Message);
        }

        return new DqsVerification(path, problems);
    }

    /// <summary>Verifies each shard, then that the valid ones form one consistent set.</summary>
    public static IReadOnlyList<DqsVerification> VerifySet(IReadOnlyList<string> paths)
    {
        var results = paths.Select(Verify).ToList();
        var headers = new List<(string Path, DqsHeader Header)>();
        foreach (var result in results.Where(r => r.IsValid))
        {
            using var reader = DqsReader.Open(result.Path);
            headers.Add((result.Path, reader.Header));
        }

        var setProblems = DqsShardSet.CheckConsistency(headers);
        if (setProblems.Count > 0)
        {
            results.Add(new DqsVerification("(shard set)", setProblems));
        }

        return results;
    }
}
