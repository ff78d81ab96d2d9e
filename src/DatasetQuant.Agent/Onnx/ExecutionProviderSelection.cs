using System.Runtime.InteropServices;
using DatasetQuant.Agent.Configuration;
using DatasetQuant.Onnx;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent.Onnx;

/// <summary>The ONNX Runtime settings this device actually runs with, after the execution provider was checked.</summary>
public sealed record EffectiveOnnxRuntimeSettings(
    string ExecutionProvider,
    int IntraOpThreads,
    int InterOpThreads,
    bool EnableCpuMemArena,
    string? FallbackReason);

/// <summary>
/// Decides cpu or cuda. ONNX Runtime loads its CUDA provider from <c>libonnxruntime_providers_cuda.so</c> (and
/// <c>_shared.so</c>) in the directory of libonnxruntime itself; when they are not there a session asking for CUDA
/// fails, so the agent checks first and falls back to CPU with one log line.
/// </summary>
public static partial class ExecutionProviderSelection
{
    public static readonly string[] CudaProviderFiles = ["libonnxruntime_providers_cuda.so", "libonnxruntime_providers_shared.so"];

    public static EffectiveOnnxRuntimeSettings Resolve(OnnxRuntimeOptions options, ILogger logger) =>
        Resolve(options, OnnxRuntimeDirectories(), logger);

    public static EffectiveOnnxRuntimeSettings Resolve(OnnxRuntimeOptions options, IReadOnlyList<string> runtimeDirectories, ILogger logger)
    {
        string? fallback = null;
        var provider = options.ExecutionProvider;
        if (provider == OnnxExecutionProviders.Cuda)
        {
            var found = runtimeDirectories.FirstOrDefault(dir => CudaProviderFiles.All(file => File.Exists(Path.Combine(dir, file))));
            if (found is null)
            {
                var looked = runtimeDirectories.Count == 0 ? "no libonnxruntime found" : string.Join(", ", runtimeDirectories);
                fallback = $"OnnxRuntime:ExecutionProvider asks for cuda, but {CudaProviderFiles[0]} and {CudaProviderFiles[1]} " +
                           $"are not beside libonnxruntime (looked in {looked})";
                provider = OnnxExecutionProviders.Cpu;
                LogCudaFallback(logger, fallback);
            }
        }

        return new EffectiveOnnxRuntimeSettings(provider, options.IntraOpThreads, options.InterOpThreads, options.EnableCpuMemArena, fallback);
    }

    /// <summary>
    /// The directories holding the libonnxruntime.so this process loads, without loading it (it maps tens of MB): the
    /// one already loaded, else beside the program (a publish) or the package's runtimes/&lt;rid&gt;/native (a build).
    /// </summary>
    public static IReadOnlyList<string> OnnxRuntimeDirectories()
    {
        var candidates = new[]
        {
            OnnxRuntime.LibraryPath is { } loaded ? Path.GetDirectoryName(loaded) : null,
            AppContext.BaseDirectory,
            Path.Combine(AppContext.BaseDirectory, "runtimes", RuntimeInformation.RuntimeIdentifier, "native"),
        };
        var directories = new List<string>();
        foreach (var dir in candidates)
        {
            if (dir is not null && File.Exists(Path.Combine(dir, "libonnxruntime.so")) && Path.GetFullPath(dir) is var full && !directories.Contains(full))
            {
                directories.Add(full);
            }
        }

        return directories;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Reason}; using the CPU provider")]
    private static partial void LogCudaFallback(ILogger logger, string reason);
}
