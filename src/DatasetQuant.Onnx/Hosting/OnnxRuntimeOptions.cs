namespace DatasetQuant.Onnx.Hosting;

/// <summary>Configuration section <c>Onnx</c>: the session settings every model a host opens gets.</summary>
public sealed class OnnxRuntimeOptions
{
    public const string Section = "Onnx";

    public int IntraOpThreads { get; set; }

    public int InterOpThreads { get; set; }

    public bool CpuArena { get; set; } = true;

    public bool MemoryPattern { get; set; } = true;

    public OnnxGraphOptimization OptimizationLevel { get; set; } = OnnxGraphOptimization.All;

    public string ExecutionProvider { get; set; } = "cpu";

    internal OnnxSessionOptions ToSessionOptions(Action<string> log) => new()
    {
        IntraOpThreads = IntraOpThreads,
        InterOpThreads = InterOpThreads,
        CpuArena = CpuArena,
        MemoryPattern = MemoryPattern,
        OptimizationLevel = OptimizationLevel,
        ExecutionProvider = ExecutionProvider,
        Log = log,
    };
}
