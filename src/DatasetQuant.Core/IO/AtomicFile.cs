namespace DatasetQuant.Core.IO;

/// <summary>
/// Whole-file atomic replacement for small files (models, manifests, reports, state, keys), over
/// <see cref="AtomicFileWriter"/>: after a power cut or a kill the target holds the old bytes or the new ones.
/// </summary>
public static class AtomicFile
{
    /// <summary>Temporary files end with this; <see cref="DeleteLeftovers"/> removes the ones a killed writer left.</summary>
    public const string TempSuffix = ".tmp";

    /// <summary>Writes <paramref name="contents"/> to <paramref name="path"/> atomically, creating its folder if needed.</summary>
    /// <param name="mode">Permissions of a newly created file (for example owner-only for a private key); null for the default.</param>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> contents, UnixFileMode? mode = null)
    {
        using var writer = new AtomicFileWriter(path, mode);
        writer.Stream.Write(contents);
        writer.Commit();
    }

    /// <summary>Removes temporary files a killed writer left in <paramref name="directory"/>; nothing refers to them.</summary>
    public static int DeleteLeftovers(string directory)
    {
        if (!Directory.Exists(directory))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var file in Directory.EnumerateFiles(directory, "." + "*" + TempSuffix))
        {
            try
            {
                File.Delete(file);
                deleted++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Still held or not ours to delete: it is ignored by every reader either way.
            }
        }

        return deleted;
    }
}
