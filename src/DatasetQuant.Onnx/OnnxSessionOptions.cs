namespace DatasetQuant.Onnx;

/// <summary>ONNX Runtime's graph optimisation levels (<c>GraphOptimizationLevel</c>).</summary>
public enum OnnxGraphOptimization
{
    Disabled = 0,
    Basic = 1,
    Extended = 2,
    All = 99,
}

/// <summary>The session settings that matter on small boards. Defaults are ONNX Runtime's own.</summary>
public sealed class OnnxSessionOptions
{
    /// <summary>Threads inside one operator; 0 lets ONNX Runtime pick (one per physical core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads running independent operators in parallel; only used with <see cref="ParallelExecution"/>.</summary>
    public int InterOpThreads { get; init; }

    public bool ParallelExecution { get; init; }

    public OnnxGraphOptimization OptimizationLevel { get; init; } = OnnxGraphOptimization.All;

    /// <summary>The CPU arena keeps freed blocks for reuse: faster, but the process keeps its peak memory.</summary>
    public bool CpuArena { get; init; } = true;

    /// <summary>Memory pattern planning pre-allocates intermediate tensors for a repeated input shape.</summary>
    public bool MemoryPattern { get; init; } = true;

    /// <summary>
    /// <c>cpu</c>, <c>cuda</c> or <c>tensorrt</c> (ORT's full names are accepted too). A provider that this build or
    /// machine lacks falls back to CPU with one line through <see cref="Log"/>.
    /// </summary>
    public string ExecutionProvider { get; init; } = "cpu";

    /// <summary>Extra <c>AddSessionConfigEntry</c> keys, e.g. <c>session.intra_op.allow_spinning=0</c>.</summary>
    public IReadOnlyDictionary<string, string>? ConfigEntries { get; init; }

    /// <summary>
    /// When set, ONNX Runtime profiles the session into <c>PREFIX_&lt;date&gt;.json</c> (Chrome trace format; one
    /// <c>model_run</c> event per run with the time spent inside Run), written when the session ends profiling
    /// (<see cref="OnnxSession.EndProfiling"/>) or is disposed. For measurements, not for the device.
    /// </summary>
    public string? ProfilePrefix { get; init; }

    /// <summary>Where the provider fallback line goes; standard error when null.</summary>
    public Action<string>? Log { get; init; }

    public static OnnxSessionOptions Default { get; } = new();

    internal void Validate()
    {
        if (IntraOpThreads < 0 || InterOpThreads < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(IntraOpThreads), "Thread counts must be 0 (ONNX Runtime's choice) or positive.");
        }

        if (!Enum.IsDefined(OptimizationLevel))
        {
            throw new ArgumentOutOfRangeException(nameof(OptimizationLevel), $"Unknown graph optimisation level {(int)OptimizationLevel}.");
        }
    }
}
