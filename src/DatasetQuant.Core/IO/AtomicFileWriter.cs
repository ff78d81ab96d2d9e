using System.Runtime.InteropServices;
using DatasetQuant.Core.Interop;

namespace DatasetQuant.Core.IO;

/// <summary>
/// Writes a file so that a power cut leaves either the old file or the complete new one: the bytes go to a temporary
/// file in the same folder, which is fsynced, renamed over the target, and the folder is fsynced so the rename
/// itself is durable.
/// </summary>
public sealed class AtomicFileWriter : IDisposable
{
    private readonly FileStream _stream;
    private bool _committed;

    /// <param name="mode">Permissions of the new file (for example owner-only for a private key); null for the default.</param>
    public AtomicFileWriter(string path, UnixFileMode? mode = null)
    {
        Path = System.IO.Path.GetFullPath(path);
        var directory = System.IO.Path.GetDirectoryName(Path)!;
        Directory.CreateDirectory(directory);
        TempPath = System.IO.Path.Combine(directory, $".{System.IO.Path.GetFileName(Path)}.{Environment.ProcessId}.{Guid.NewGuid():N}{AtomicFile.TempSuffix}");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.ReadWrite, Share = FileShare.None, BufferSize = 1 << 16 };
        if (mode is not null && !OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = mode;
        }

        _stream = new FileStream(TempPath, options);
    }

    /// <summary>Where the file appears on <see cref="Commit"/>.</summary>
    public string Path { get; }

    public string TempPath { get; }

    public FileStream Stream => _stream;

    public void Commit()
    {
        ObjectDisposedException.ThrowIf(_committed, this);
        _stream.Flush(flushToDisk: true);
        _stream.Dispose();
        File.Move(TempPath, Path, overwrite: true);
        _committed = true;
        SyncDirectory(System.IO.Path.GetDirectoryName(Path)!);
    }

    public void Dispose()
    {
        if (_committed)
        {
            return;
        }

        _stream.Dispose();
        try
        {
            File.Delete(TempPath);
        }
        catch (IOException)
        {
            // Left behind only if the folder vanished or became read-only; nothing reads *.tmp files.
        }
    }

    /// <summary>Makes a rename or creation in <paramref name="directory"/> durable (a no-op where directories cannot be opened).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS() && !OperatingSystem.IsFreeBSD())
        {
            return;
        }

        var fd = Libc.open(directory, Libc.O_RDONLY);
        if (fd < 0)
        {
            throw new IOException($"{directory}: cannot open the folder to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Libc.fsync(fd) != 0)
            {
                throw new IOException($"{directory}: fsync of the folder failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}
