using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Onnx.Hosting;

public static class OnnxServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="OnnxSessionFactory"/> and validates <see cref="OnnxRuntimeOptions"/> when the host starts:
    /// thread counts, provider name, and that the ONNX Runtime library loads (one message naming what is wrong).
    /// </summary>
    public static IServiceCollection AddOnnxRuntime(this IServiceCollection services, Action<OnnxRuntimeOptions>? configure = null)
    {
        var options = services.AddOptions<OnnxRuntimeOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o => o.IntraOpThreads >= 0 && o.InterOpThreads >= 0, "Onnx:IntraOpThreads and Onnx:InterOpThreads must be 0 (automatic) or positive.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.ExecutionProvider), "Onnx:ExecutionProvider must name a provider (cpu, cuda, tensorrt).")
            .Validate(o => Enum.IsDefined(o.OptimizationLevel), "Onnx:OptimizationLevel must be Disabled, Basic, Extended or All.")
            .Validate(o => LibraryLoads(out _), "ONNX Runtime could not be loaded (libonnxruntime.so beside the program, from the Microsoft.ML.OnnxRuntime package); run `dq env` for details.")
            .ValidateOnStart();
        services.AddSingleton<OnnxSessionFactory>();
        return services;
    }

    private static bool LibraryLoads(out string? error)
    {
        try
        {
            OnnxRuntime.EnsureInitialized();
            error = null;
            return true;
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or DllNotFoundException)
        {
            error = ex.Message;
            return false;
        }
    }
}

/// <summary>Opens sessions with the host's <see cref="OnnxRuntimeOptions"/>; provider fallbacks go to the log.</summary>
public sealed partial class OnnxSessionFactory(IOptions<OnnxRuntimeOptions> options, ILogger<OnnxSessionFactory> logger)
{
    public OnnxSession Open(string path) => OnnxSession.Load(path, options.Value.ToSessionOptions(line => LogFallback(logger, line)));

    public OnnxSession Open(ReadOnlySpan<byte> model, string name) =>
        OnnxSession.Load(model, options.Value.ToSessionOptions(line => LogFallback(logger, line)), name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Line}")]
    private static partial void LogFallback(ILogger logger, string line);
}
