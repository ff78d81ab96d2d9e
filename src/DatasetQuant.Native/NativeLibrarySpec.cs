namespace DatasetQuant.Native;

/// <summary>
/// What a binding needs to find one native library: the name its <c>LibraryImport</c>s use, the file names to try,
/// the environment variable that overrides the search, and the command that installs the library when it is missing.
/// </summary>
public sealed record NativeLibrarySpec(
    string ImportName,
    IReadOnlyList<string> FileNames,
    string EnvironmentVariable,
    string InstallHint);

/// <summary>The native libraries DatasetQuant binds.</summary>
public static class KnownNativeLibraries
{
    public static NativeLibrarySpec Gpiod { get; } = new(
        "gpiod",
        ["libgpiod.so.2"],
        "DQ_GPIOD_PATH",
        "apt-get install libgpiod2 (or ./build.sh --target=bootstrap)");
}
