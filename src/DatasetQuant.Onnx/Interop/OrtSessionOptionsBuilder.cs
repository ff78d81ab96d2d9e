using System.Text;

namespace DatasetQuant.Onnx.Interop;

/// <summary>Applies <see cref="OnnxSessionOptions"/> to a fresh <c>OrtSessionOptions</c>, including provider fallback.</summary>
internal static unsafe class OrtSessionOptionsBuilder
{
    public static OrtSessionOptionsHandle Create(OnnxSessionOptions options, out string provider)
    {
        options.Validate();
        nint raw;
        OrtStatus.Check(OrtApi.CreateSessionOptions(&raw), "creating session options");
        var handle = new OrtSessionOptionsHandle(raw);
        try
        {
            OrtStatus.Check(OrtApi.SetSessionLogSeverityLevel(raw, 3));
            OrtStatus.Check(OrtApi.SetSessionGraphOptimizationLevel(raw, (int)options.OptimizationLevel), "graph optimisation level");
            OrtStatus.Check(OrtApi.SetIntraOpNumThreads(raw, options.IntraOpThreads), "intra-op threads");
            OrtStatus.Check(OrtApi.SetInterOpNumThreads(raw, options.InterOpThreads), "inter-op threads");
            OrtStatus.Check(OrtApi.SetSessionExecutionMode(raw, options.ParallelExecution ? 1 : 0), "execution mode");
            OrtStatus.Check(OrtApi.SetCpuMemArena(raw, options.CpuArena), "CPU arena");
            OrtStatus.Check(OrtApi.SetMemPattern(raw, options.MemoryPattern), "memory pattern");
            if (options.ConfigEntries is not null)
            {
                foreach (var (key, value) in options.ConfigEntries)
                {
                    AddConfigEntry(raw, key, value);
                }
            }

            provider = AppendProvider(raw, options);
            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private static void AddConfigEntry(nint options, string key, string value)
    {
        var k = Encoding.UTF8.GetBytes(key + "\0");
        var v = Encoding.UTF8.GetBytes(value + "\0");
        fixed (byte* kp = k)
        fixed (byte* vp = v)
        {
            OrtStatus.Check(OrtApi.AddSessionConfigEntry(options, kp, vp), $"session config entry '{key}'");
        }
    }

    private static string AppendProvider(nint options, OnnxSessionOptions settings)
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
            var status = requested switch
            {
                ExecutionProviders.Cuda => OrtNative.OrtSessionOptionsAppendExecutionProvider_CUDA(options, 0),
                ExecutionProviders.TensorRT => OrtNative.OrtSessionOptionsAppendExecutionProvider_Tensorrt(options, 0),
                _ => -1,
            };
            if (status == 0)
            {
                return requested;
            }

            if (status == -1)
            {
                reason = "DatasetQuant does not attach this provider";
            }
            else
            {
                try
                {
                    OrtStatus.Check(status);
                    reason = "unknown";
                }
                catch (OnnxRuntimeException ex)
                {
                    reason = ex.Message;
                }
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
