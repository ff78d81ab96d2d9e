namespace DatasetQuant.Onnx;

/// <summary>ONNX Runtime's execution provider names and the short names dq accepts for them.</summary>
public static class ExecutionProviders
{
    public const string Cpu = "CPUExecutionProvider";
    public const string Cuda = "CUDAExecutionProvider";
    public const string TensorRT = "TensorrtExecutionProvider";

    /// <summary>Maps cpu/cuda/tensorrt (any case) to ORT's name; other names pass through unchanged.</summary>
    public static string Normalize(string name) => name.Trim().ToLowerInvariant() switch
    {
        "" or "cpu" or "cpuexecutionprovider" => Cpu,
        "cuda" or "cudaexecutionprovider" => Cuda,
        "tensorrt" or "trt" or "tensorrtexecutionprovider" => TensorRT,
        _ => name.Trim(),
    };
}
