using System.Runtime.InteropServices;

namespace DatasetQuant.Agent.Storage;

/// <summary>
/// Replaces a file so that a power cut or a kill at any moment leaves either the old file or the new one: write a
/// temp file beside it, fsync it, rename it over the target, fsync the directory so the rename itself is durable.
/// </summary>
public static partial class AtomicFile
{
    public const string TempSuffix = ".tmp";

    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents)
    {
        var full = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(directory);
        var temp = Path.Combine(directory, $".{Path.GetFileName(full)}.{Environment.ProcessId}{TempSuffix}");
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1))
            {
                stream.Write(contents);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, full, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        FsyncDirectory(directory);
    }

    /// <summary>Removes temp files a killed writer left behind; they were never renamed, so nothing refers to them.</summary>
    public static int DeleteLeftovers(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "." + "*" + TempSuffix))
        {
            deleted += TryDelete(file) ? 1 : 0;
        }

        return deleted;
    }

    private static bool TryDelete(string file)
    {
        try
        {
            File.Delete(file);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
        catch (UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void FsyncDirectory(string directory)
    {
        // O_RDONLY opens a directory on Linux; O_DIRECTORY is not needed and its value differs between architectures.
        const int ReadOnly = 0;
        var fd = Libc.open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"Opening directory '{directory}' to fsync it failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        try
        {
            if (Libc.fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }

    private static partial class Libc
    {
        [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int open(string path, int flags);

        [LibraryImport("libc.so.6", SetLastError = true)]
        public static partial int fsync(int fd);

        [LibraryImport("libc.so.6", SetLastError = true)]
        public static partial int close(int fd);
    }
}
