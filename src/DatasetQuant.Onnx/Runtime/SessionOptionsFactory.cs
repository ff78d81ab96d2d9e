using Microsoft.ML.OnnxRuntime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>Turns <see cref="OnnxSessionOptions"/> into ONNX Runtime's <see cref="SessionOptions"/>, including provider fallback.</summary>
internal static class SessionOptionsFactory
{
    public static SessionOptions Create(OnnxSessionOptions options, out string provider)
    {
        options.Validate();
        _ = OnnxRuntime.Environment; // the environment's log level must be set before the first session exists
        var result = new SessionOptions();
        try
        {
            result.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL; // errors come back as exceptions
            result.GraphOptimizationLevel = (GraphOptimizationLevel)(int)options.OptimizationLevel;
            result.IntraOpNumThreads = options.IntraOpThreads;
            result.InterOpNumThreads = options.InterOpThreads;
            result.ExecutionMode = options.ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL;
            result.EnableCpuMemArena = options.CpuArena;
            result.EnableMemoryPattern = options.MemoryPattern;
            if (options.ProfilePrefix is { } prefix)
            {
                result.EnableProfiling = true;
                result.ProfileOutputPathPrefix = prefix;
            }

            foreach (var (key, value) in options.ConfigEntries ?? new Dictionary<string, string>())
            {
                AddConfigEntry(result, key, value);
            }

            provider = AppendProvider(result, options);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    private static void AddConfigEntry(SessionOptions options, string key, string value)
    {
        try
        {
            options.AddSessionConfigEntry(key, value);
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"session config entry '{key}'");
        }
    }

    private static string AppendProvider(SessionOptions options, OnnxSessionOptions settings)
    {
        var requested = ExecutionProviders.Normalize(settings.ExecutionProvider);
        if (requested == ExecutionProviders.Cpu)
        {
            return ExecutionProviders.Cpu;
        }

        string reason;
        if (!OnnxRuntime.AvailableProviders.Contains(requested))
        {
            reason = $"this ONNX Runtime build has only {string.Join(", ", OnnxRuntime.AvailableProviders)}";
        }
        else
        {
            try
            {
                switch (requested)
                {
                    case ExecutionProviders.Cuda:
                        options.AppendExecutionProvider_CUDA(0);
                        return requested;
                    case ExecutionProviders.TensorRT:
                        options.AppendExecutionProvider_Tensorrt(0);
                        return requested;
                    default:
                        reason = "DatasetQuant does not attach this provider";
                        break;
                }
            }
            catch (Ort.OnnxRuntimeException ex)
            {
                reason = OrtErrors.Translate(ex, null).Message;
            }
        }

        var line = $"onnx: execution provider '{settings.ExecutionProvider}' unavailable ({FirstLine(reason)}); using CPU.";
        (settings.Log ?? Console.Error.WriteLine)(line);
        return ExecutionProviders.Cpu;
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOfAny(['\r', '\n']);
        return newline < 0 ? text : text[..newline];
    }
}
