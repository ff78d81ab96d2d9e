namespace DatasetQuant.Onnx.Runtime;

/// <summary>Where a shared library mapped into this process came from, as the kernel lists it in <c>/proc/self/maps</c>.</summary>
internal static class LoadedLibrary
{
    /// <summary>The full path of the first mapping whose file name starts with <paramref name="fileNamePrefix"/>, or null.</summary>
    public static string? PathOf(string fileNamePrefix)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/maps"))
            {
                // address perms offset dev inode path: the path starts at the first '/' after the inode.
                var slash = line.IndexOf('/', StringComparison.Ordinal);
                if (slash >= 0 && Path.GetFileName(line.AsSpan(slash)).StartsWith(fileNamePrefix, StringComparison.Ordinal))
                {
                    return line[slash..];
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
