namespace DatasetQuant.Cli.Commands;

/// <summary>
/// The work directory of an experiment: the one <c>--work</c> names, kept afterwards so its shards can be inspected,
/// or a fresh temporary directory that is deleted when the experiment ends.
/// </summary>
internal sealed class ScratchDirectory : IDisposable
{
    private readonly bool _owned;

    private ScratchDirectory(string path, bool owned)
    {
        Path = path;
        _owned = owned;
    }

    public string Path { get; }

    public static ScratchDirectory Create(string? given, string tempPrefix) =>
        given is null
            ? new ScratchDirectory(Directory.CreateTempSubdirectory(tempPrefix).FullName, owned: true)
            : new ScratchDirectory(given, owned: false);

    public void Dispose()
    {
        if (_owned)
        {
            Directory.Delete(Path, recursive: true);
        }
    }
}
