namespace DatasetQuant.Core.Quantization;

/// <summary>Chooses each sample's bit width (0 = dropped) under one byte budget.</summary>
public interface IBitAllocator
{
    /// <summary>The name used on the command line: uniform, adaptive, prune.</summary>
    string Name { get; }

    /// <summary>Whether <see cref="AllocationProblem.Distortion"/> must be measured first.</summary>
    bool NeedsDistortion { get; }

    /// <summary>Writes a width per sample into <paramref name="bits"/> (length = problem.Count).</summary>
    void Allocate(AllocationProblem problem, Span<byte> bits);
}

/// <summary>The allocators by name.</summary>
public static class BitAllocators
{
    public static IReadOnlyList<string> Names { get; } = ["adaptive", "uniform", "prune"];

    public static IBitAllocator Create(string name) => name.ToLowerInvariant() switch
    {
        "adaptive" => new AdaptiveAllocator(),
        "uniform" => new UniformAllocator(),
        "prune" => new PruneAllocator(),
        _ => throw new ArgumentException($"unknown allocator '{name}'; expected {string.Join(", ", Names)}.", nameof(name)),
    };
}
