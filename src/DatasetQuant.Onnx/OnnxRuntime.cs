using System.Runtime.InteropServices;
using DatasetQuant.Native;
using DatasetQuant.Onnx.Interop;

namespace DatasetQuant.Onnx;

/// <summary>
/// The process-wide ONNX Runtime: the loaded library's version, its execution providers, and the one <c>OrtEnv</c>
/// every session shares (ONNX Runtime wants a single environment that lives as long as the process).
/// </summary>
public static unsafe class OnnxRuntime
{
    private static readonly Lock Gate = new();
    private static nint s_env;
    private static nint s_cpuMemoryInfo;
    private static string[]? s_providers;

    /// <summary>The version string the native library reports, e.g. 1.30.0. Loads the library on first use.</summary>
    public static string Version => OrtApi.Version;

    /// <summary>Where the native library was loaded from, once it is loaded.</summary>
    public static string? LibraryPath => NativeLibraryResolver.LoadedFrom(KnownNativeLibraries.OnnxRuntime);

    /// <summary>Execution providers compiled into this build (a provider listed here may still lack its own library).</summary>
    public static IReadOnlyList<string> AvailableProviders
    {
        get
        {
            if (s_providers is not null)
            {
                return s_providers;
            }

            nint* list;
            int count;
            OrtStatus.Check(OrtApi.GetAvailableProviders(&list, &count));
            var names = new string[count];
            for (var i = 0; i < count; i++)
            {
                names[i] = Marshal.PtrToStringUTF8(list[i]) ?? string.Empty;
            }

            OrtStatus.Check(OrtApi.ReleaseAvailableProviders(list, count));
            return s_providers = names;
        }
    }

    /// <summary>Loads the library and creates the environment now, so a missing library fails here with one clear message.</summary>
    public static void EnsureInitialized() => _ = Environment;

    internal static nint Environment
    {
        get
        {
            if (s_env != 0)
            {
                return s_env;
            }

            lock (Gate)
            {
                if (s_env == 0)
                {
                    nint env;
                    var logId = "dq"u8;
                    fixed (byte* id = logId)
                    {
                        // Level 4 = ORT_LOGGING_LEVEL_FATAL: every error also comes back as a status and becomes an exception or the
                        // single provider-fallback line, so ONNX Runtime's own log would only repeat it.
                        OrtStatus.Check(OrtApi.CreateEnv(4, id, &env), "creating the ONNX Runtime environment");
                    }

                    nint memoryInfo;
                    OrtStatus.Check(OrtApi.CreateCpuMemoryInfo(0, 0, &memoryInfo)); // OrtDeviceAllocator, OrtMemTypeDefault
                    s_cpuMemoryInfo = memoryInfo;
                    s_env = env;
                }
            }

            return s_env;
        }
    }

    internal static nint CpuMemoryInfo
    {
        get
        {
            _ = Environment;
            return s_cpuMemoryInfo;
        }
    }

    internal static nint DefaultAllocator
    {
        get
        {
            nint allocator;
            OrtStatus.Check(OrtApi.GetAllocatorWithDefaultOptions(&allocator));
            return allocator;
        }
    }
}
