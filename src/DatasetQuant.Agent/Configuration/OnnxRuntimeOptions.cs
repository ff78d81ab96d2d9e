namespace DatasetQuant.Agent.Configuration;

/// <summary>The <c>OnnxRuntime</c> section: how generator sampling and training use ONNX Runtime on this board.</summary>
public sealed class OnnxRuntimeOptions
{
    public const string SectionName = "OnnxRuntime";

    /// <summary>Threads inside one operator; the board's big cores, leaving one for sync on small boards.</summary>
    public int IntraOpThreads { get; set; } = 1;

    /// <summary>Threads running independent operators in parallel; 1 is right for the small generator graphs.</summary>
    public int InterOpThreads { get; set; } = 1;

    /// <summary>ONNX Runtime's CPU memory arena: faster repeated runs, but it keeps its peak; off on 512 MB boards.</summary>
    public bool EnableCpuMemArena { get; set; }

    /// <summary><c>cpu</c>, or <c>cuda</c> (falls back to cpu with a log line when the CUDA provider is not installed).</summary>
    public string ExecutionProvider { get; set; } = OnnxExecutionProviders.Cpu;
}

public static class OnnxExecutionProviders
{
    public const string Cpu = "cpu";
    public const string Cuda = "cuda";
}
