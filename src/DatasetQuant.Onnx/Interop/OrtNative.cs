using System.Runtime.InteropServices;
using DatasetQuant.Native;

namespace DatasetQuant.Onnx.Interop;

/// <summary>
/// The three symbols libonnxruntime exports by name. Everything else is reached through the function table that
/// <c>OrtGetApiBase()->GetApi(version)</c> returns (see <see cref="OrtApi"/>).
/// </summary>
internal static partial class OrtNative
{
    public const string Library = "onnxruntime";

    // An explicit static constructor runs before the first call to any import below, so they resolve through the cache.
    static OrtNative() => NativeLibraryResolver.Register(typeof(OrtNative).Assembly, KnownNativeLibraries.OnnxRuntime);

    [LibraryImport(Library)]
    public static partial nint OrtGetApiBase();

    [LibraryImport(Library)]
    public static partial nint OrtSessionOptionsAppendExecutionProvider_CUDA(nint options, int deviceId);

    [LibraryImport(Library)]
    public static partial nint OrtSessionOptionsAppendExecutionProvider_Tensorrt(nint options, int deviceId);
}
