using DatasetQuant.Agent.Configuration;
using DatasetQuant.Agent.Onnx;
using DatasetQuant.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Agent.Tests;

public sealed class ExecutionProviderSelectionTests
{
    private static readonly OnnxRuntimeOptions Cuda = new() { ExecutionProvider = "cuda", IntraOpThreads = 6, InterOpThreads = 2 };

    [Fact]
    public void Cuda_without_the_provider_libraries_falls_back_to_cpu_with_the_reason()
    {
        using var runtime = new TempDirectory("ort");
        File.WriteAllBytes(runtime.File("libonnxruntime.so"), []);

        var settings = ExecutionProviderSelection.Resolve(Cuda, [runtime.Path], NullLogger.Instance);

        Assert.Equal("cpu", settings.ExecutionProvider);
        Assert.Contains("libonnxruntime_providers_cuda.so", settings.FallbackReason, StringComparison.Ordinal);
        Assert.Contains(runtime.Path, settings.FallbackReason, StringComparison.Ordinal);
        Assert.Equal(6, settings.IntraOpThreads);
    }

    [Fact]
    public void Cuda_is_kept_when_the_provider_libraries_are_beside_the_runtime()
    {
        using var runtime = new TempDirectory("ort");
        foreach (var file in ExecutionProviderSelection.CudaProviderFiles)
        {
            File.WriteAllBytes(runtime.File(file), []);
        }

        var settings = ExecutionProviderSelection.Resolve(Cuda, [runtime.Path], NullLogger.Instance);

        Assert.Equal("cuda", settings.ExecutionProvider);
        Assert.Null(settings.FallbackReason);
    }

    [Fact]
    public void The_packaged_cpu_runtime_is_found_and_has_no_cuda_provider()
    {
        var directories = ExecutionProviderSelection.OnnxRuntimeDirectories();
        var settings = ExecutionProviderSelection.Resolve(Cuda, directories, NullLogger.Instance);

        Assert.NotEmpty(directories);
        Assert.Equal("cpu", settings.ExecutionProvider);
    }
}
