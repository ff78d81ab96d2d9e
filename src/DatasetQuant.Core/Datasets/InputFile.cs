using System.IO.Compression;

namespace DatasetQuant.Core.Datasets;

/// <summary>Opens input files, transparently gunzipping <c>.gz</c>, and reads them with bounds taken from the data itself.</summary>
internal static class InputFile
{
    public static Stream Open(string path)
    {
        if (!File.Exists(path))
        {
            throw new DatasetFormatException(path, "file not found.");
        }

        Stream stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            stream = new GZipStream(stream, CompressionMode.Decompress);
        }

        return stream;
    }

    /// <summary>Reads exactly <paramref name="destination"/>.Length bytes or names the file and how short it is.</summary>
    public static void ReadExactly(Stream stream, Span<byte> destination, string path, string what)
    {
        var total = 0;
        try
        {
            while (total < destination.Length)
            {
                var read = stream.Read(destination[total..]);
                if (read == 0)
                {
                    throw new DatasetFormatException(path, $"truncated: {what} needs {destination.Length} bytes, the file has {total}.");
                }

                total += read;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new DatasetFormatException(path, $"not valid gzip data ({ex.Message}).", ex);
        }
    }

    /// <summary>
    /// Reads <paramref name="length"/> bytes that a header promises. The buffer grows with what actually arrives, so a
    /// header that lies about its size costs at most twice the real data, never the promised amount.
    /// </summary>
    public static byte[] ReadPromised(Stream stream, long length, string path, string what)
    {
        if (length > Array.MaxLength)
        {
            throw new DatasetFormatException(path, $"{what} claims {length} bytes, more than one array can hold.");
        }

        var buffer = new byte[(int)Math.Min(length, 1 << 20)];
        var total = 0;
        try
        {
            while (total < length)
            {
                if (total == buffer.Length)
                {
                    Array.Resize(ref buffer, (int)Math.Min(length, (long)buffer.Length * 2));
                }

                var read = stream.Read(buffer, total, buffer.Length - total);
                if (read == 0)
                {
                    throw new DatasetFormatException(path, $"truncated: {what} needs {length} bytes, the file has {total}.");
                }

                total += read;
            }
        }
        catch (InvalidDataException ex)
        {
            throw new DatasetFormatException(path, $"not valid gzip data ({ex.Message}).", ex);
        }

        return buffer;
    }

    /// <summary>True when nothing follows; trailing bytes mean the file is not what its header says.</summary>
    public static bool AtEnd(Stream stream)
    {
        Span<byte> one = stackalloc byte[1];
        try
        {
            return stream.Read(one) == 0;
        }
        catch (InvalidDataException)
        {
            return false;
        }
    }
}
