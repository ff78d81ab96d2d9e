using System.Runtime.InteropServices;

namespace DatasetQuant.Mqtt.Interop;

/// <summary>The one libc call the client needs: cutting a socket as a crash or a pulled cable would.</summary>
internal static partial class Libc
{
    public const int SHUT_RDWR = 2;

    // glibc by soname: a bare "libc" can resolve to the libc.so linker script of libc6-dev.
    [LibraryImport("libc.so.6", SetLastError = true)]
    internal static partial int shutdown(int sockfd, int how);
}
