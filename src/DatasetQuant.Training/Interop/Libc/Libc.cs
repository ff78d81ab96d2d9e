using System.Runtime.InteropServices;
using DatasetQuant.Native;

namespace DatasetQuant.Training.Interop.Libc;

/// <summary>
/// The two libc calls .NET has no API for: opening a directory and fsyncing it, which makes a rename durable
/// (without it a power cut can lose the new directory entry although the file's data was flushed).
/// </summary>
internal static partial class Libc
{
    public const int O_RDONLY = 0;
    public const int O_DIRECTORY = 0x10000; // Linux, same value on x86-64 and arm64
    public const int O_CLOEXEC = 0x80000;

    static Libc() => NativeLibraryResolver.Register(typeof(Libc).Assembly, Spec);

    public static NativeLibrarySpec Spec { get; } = new("c", ["libc.so.6", "libc.so"], "DQ_LIBC_PATH", null, "libc is part of every Linux system");

    [LibraryImport("c", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    public static partial int open(string path, int flags);

    [LibraryImport("c", EntryPoint = "fsync", SetLastError = true)]
    public static partial int fsync(int fd);

    [LibraryImport("c", EntryPoint = "close", SetLastError = true)]
    public static partial int close(int fd);
}
