namespace DatasetQuant.Testing;

/// <summary>Random damage for parser tests: bytes changed, inserted or removed, the first few left as they are.</summary>
public static class ByteEdits
{
    /// <summary>A copy of <paramref name="content"/> with one to three random edits at or after <paramref name="from"/>.</summary>
    public static byte[] Garble(Random random, ReadOnlySpan<byte> content, int from)
    {
        var bytes = content.ToArray().ToList();
        for (var edits = random.Next(1, 4); edits > 0 && bytes.Count > from; edits--)
        {
            var at = random.Next(from, bytes.Count);
            switch (random.Next(3))
            {
                case 0: bytes[at] = (byte)random.Next(256); break;
                case 1: bytes.Insert(at, (byte)random.Next(256)); break;
                default: bytes.RemoveAt(at); break;
            }
        }

        return [.. bytes];
    }
}
