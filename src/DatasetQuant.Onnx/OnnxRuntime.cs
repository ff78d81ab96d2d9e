using Microsoft.ML.OnnxRuntime;
using DatasetQuant.Onnx.Runtime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx;

/// <summary>
/// The process-wide ONNX Runtime (Microsoft.ML.OnnxRuntime): the loaded library's version, where it was loaded from,
/// its execution providers, and the one <see cref="OrtEnv"/> every session shares.
/// </summary>
public static class OnnxRuntime
{
    private static readonly Lock Gate = new();
    private static OrtEnv? s_env;
    private static string[]? s_providers;

    /// <summary>The version string the native library reports, e.g. 1.32.0. Loads the library on first use.</summary>
    public static string Version => Environment.GetVersionString();

    /// <summary>
    /// The file the native library was mapped from (read from <c>/proc/self/maps</c>), once it is loaded: the package's
    /// <c>runtimes/&lt;rid&gt;/native</c> copy in a build, the file beside the program in a publish.
    /// </summary>
    public static string? LibraryPath => LoadedLibrary.PathOf("libonnxruntime.so");

    /// <summary>Execution providers compiled into this build (a provider listed here may still lack its own library).</summary>
    public static IReadOnlyList<string> AvailableProviders => s_providers ??= Environment.GetAvailableProviders();

    /// <summary>Loads the library and creates the environment now, so a missing library fails here with one clear message.</summary>
    public static void EnsureInitialized() => _ = Environment;

    internal static OrtEnv Environment
    {
        get
        {
            var env = Volatile.Read(ref s_env);
            if (env is not null)
            {
                return env;
            }

            lock (Gate)
            {
                if (s_env is null)
                {
                    try
                    {
                        // Fatal only: every error also comes back as an exception (or the single provider-fallback line),
                        // so ONNX Runtime's own log would only repeat it on standard error.
                        var options = new EnvironmentCreationOptions { logId = "dq", logLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL };
                        Volatile.Write(ref s_env, OrtEnv.CreateInstanceWithOptions(ref options));
                    }
                    catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException or TypeInitializationException)
                    {
                        throw new OnnxRuntimeException(
                            "ONNX Runtime's native library (libonnxruntime.so) could not be loaded; it ships beside the program " +
                            $"from the Microsoft.ML.OnnxRuntime package (runtimes/<rid>/native): {ex.GetBaseException().Message}", ex);
                    }
                    catch (Ort.OnnxRuntimeException ex)
                    {
                        throw OrtErrors.Translate(ex, "creating the ONNX Runtime environment");
                    }
                }
            }

            return s_env!;
        }
    }
}
