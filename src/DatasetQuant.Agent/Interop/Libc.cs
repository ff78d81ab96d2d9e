using System.Runtime.InteropServices;

namespace DatasetQuant.Agent.Interop;

/// <summary>The glibc call dq-agent makes to give mapped file pages back when it turns idle (Memory/MappedFilePages).</summary>
internal static partial class Libc
{
    /// <summary>
    /// madvise(2) advice: drop the page-table entries of the range. For a private mapping of a file that was never
    /// written this loses nothing: the next access maps the same page again from the page cache.
    /// </summary>
    public const int MADV_DONTNEED = 4;

    // glibc by soname: a bare "libc" can resolve to the libc.so linker script of libc6-dev.
    [LibraryImport("libc.so.6", SetLastError = true)]
    internal static partial int madvise(nint address, nuint length, int advice);
}
