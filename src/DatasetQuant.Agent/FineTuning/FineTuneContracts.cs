using DatasetQuant.Agent.Onnx;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>What asked for a fine-tuning run.</summary>
public enum FineTuneTrigger
{
    NewData,
    Command,
    Button,
}

/// <summary>Everything a trainer needs to know about this device to fine-tune offline.</summary>
public sealed record FineTuneRequest(
    FineTuneTrigger Trigger,
    string DataDirectory,
    long MemoryLimitBytes,
    double HeldOutFraction,
    EffectiveOnnxRuntimeSettings OnnxRuntime,
    IReadOnlyList<string>? ShardPaths = null);

/// <summary>The outcome of one run, as reported in the device state and written to the data directory.</summary>
public sealed record FineTuneResult(
    bool Completed,
    string Message,
    double? HeldOutAccuracy = null,
    int TrainSamples = 0,
    int GeneratorSamples = 0,
    int HeldOutSamples = 0,
    string? ModelPath = null);

/// <summary>
/// The trainer as dq-agent sees it: fine-tune the device's classifier from its shards plus generator samples, and
/// measure accuracy on a held-out local shard. DatasetQuant.Training provides the implementation.
/// </summary>
public interface IDeviceTrainer
{
    /// <summary>Cancelled on shutdown; an implementation writes its checkpoint atomically or not at all.</summary>
    Task<FineTuneResult> FineTuneAsync(FineTuneRequest request, CancellationToken cancellationToken);
}
