using System.Runtime.InteropServices;

namespace DatasetQuant.Core.Interop;

/// <summary>The three POSIX calls needed to fsync a directory, which .NET cannot open as a file.</summary>
internal static partial class Libc
{
    public const int O_RDONLY = 0;

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string pathname, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);
}
