namespace DatasetQuant.Onnx.Generators;

/// <summary>What the sampler writes: normalised training pixels, [0,1] pixels, or the generator's raw output.</summary>
public enum GeneratorOutputScale
{
    /// <summary>((G(z) - min) / (max - min) - mean[c]) / std[c]: what a classifier trained on the dataset expects.</summary>
    Normalized,

    /// <summary>(G(z) - min) / (max - min), clamped to [0, 1]: pixels, as a shard stores them.</summary>
    UnitRange,

    /// <summary>G(z) as the model returns it.</summary>
    Raw,
}

public sealed class GeneratorSamplerOptions
{
    public ulong Seed { get; init; }

    /// <summary>Samples per native Run; the sampler's buffers hold one batch.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Relative class weights; null draws classes balanced (each class once per run of C samples).</summary>
    public IReadOnlyList<double>? ClassWeights { get; init; }

    public GeneratorOutputScale Output { get; init; } = GeneratorOutputScale.Normalized;

    public OnnxSessionOptions? Session { get; init; }
}
