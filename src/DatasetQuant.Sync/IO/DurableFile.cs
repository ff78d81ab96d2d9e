using System.Text;
using DatasetQuant.Core.IO;

namespace DatasetQuant.Sync.IO;

/// <summary>
/// Atomic, durable file replacement on flash: write a temp file beside the target, fsync it, rename it over the
/// target, fsync the directory. After a power cut the target is either the old or the new content, never a mix.
/// </summary>
public static class DurableFile
{
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> content, UnixFileMode? mode = null) => AtomicFile.WriteAllBytes(path, content, mode);

    public static void WriteAllText(string path, string content, UnixFileMode? mode) => WriteAllBytes(path, Encoding.UTF8.GetBytes(content), mode);

    /// <summary>Renames an already fsynced <paramref name="temp"/> over <paramref name="path"/> and fsyncs the directory.</summary>
    public static void CommitTemp(string temp, string path)
    {
        File.Move(temp, path, overwrite: true);
        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    /// <summary>Deletes a file if present and makes the removal durable.</summary>
    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    /// <summary>fsync(2) on the directory, so a rename or a new name in it survives a power cut.</summary>
    public static void SyncDirectory(string directory) => AtomicFileWriter.SyncDirectory(directory);
}
