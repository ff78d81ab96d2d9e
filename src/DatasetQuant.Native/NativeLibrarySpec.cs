namespace DatasetQuant.Native;

/// <summary>
/// What a binding needs to find one native library: the name its <c>LibraryImport</c>s use, the file names to try,
/// the environment variable that overrides the search, the folder under the cache that Bootstrap fills, and the
/// command that installs the library when it is missing.
/// </summary>
public sealed record NativeLibrarySpec(
    string ImportName,
    IReadOnlyList<string> FileNames,
    string EnvironmentVariable,
    string? CacheSubdirectory,
    string InstallHint);

/// <summary>The native libraries DatasetQuant binds.</summary>
public static class KnownNativeLibraries
{
    /// <summary>ONNX Runtime version whose C API the Onnx binding targets; Bootstrap caches exactly this build.</summary>
    public const string OnnxRuntimeVersion = "1.30.0";

    public static NativeLibrarySpec OnnxRuntime { get; } = new(
        "onnxruntime",
        ["libonnxruntime.so.1", "libonnxruntime.so"],
        "DQ_ONNXRUNTIME_PATH",
        $"onnxruntime/{OnnxRuntimeVersion}/{{rid}}",
        "./build.sh --target=bootstrap (fetches onnxruntime-node@" + OnnxRuntimeVersion + " from npm into the cache)");

    public static NativeLibrarySpec Mosquitto { get; } = new(
        "mosquitto",
        ["libmosquitto.so.1", "libmosquitto.so"],
        "DQ_MOSQUITTO_PATH",
        null,
        "apt-get install libmosquitto1 (or ./build.sh --target=bootstrap)");
}
