using System.Runtime.InteropServices;

namespace DatasetQuant.Sync.Interop;

/// <summary>The three libc calls .NET does not expose for directories: fsync of a directory needs its own descriptor.</summary>
internal static partial class Libc
{
    private const string Library = "libc";

    public const int O_RDONLY = 0;

    [LibraryImport(Library, EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string pathname, int flags);

    [LibraryImport(Library, EntryPoint = "fsync", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport(Library, EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);
}
