namespace DatasetQuant.Native;

/// <summary>A native library could not be found or loaded; the message lists every place that was tried.</summary>
public sealed class NativeLibraryNotFoundException : DllNotFoundException
{
    public NativeLibraryNotFoundException(NativeLibrarySpec spec, IReadOnlyList<string> tried, string? lastError)
        : base(BuildMessage(spec, tried, lastError))
    {
        Spec = spec;
        Tried = tried;
    }

    public NativeLibrarySpec Spec { get; }

    public IReadOnlyList<string> Tried { get; }

    private static string BuildMessage(NativeLibrarySpec spec, IReadOnlyList<string> tried, string? lastError)
    {
        var message = $"Native library '{spec.ImportName}' was not found. Looked for: {string.Join(", ", tried)}. " +
                      $"Install it with: {spec.InstallHint}, or point {spec.EnvironmentVariable} at the file.";
        return lastError is null ? message : $"{message} Last loader error: {lastError}";
    }
}
