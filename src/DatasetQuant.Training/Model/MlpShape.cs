namespace DatasetQuant.Training.Model;

/// <summary>
/// Layer widths of a fully connected ReLU network, input first and classes last (784-256-10 by default), and where
/// each layer's weights and biases sit in the one flat parameter vector: W₀ [in×out] row-major, b₀, W₁, b₁, …
/// The weights are stored the way ONNX Gemm takes its B input with transB = 0, so export copies them as they are.
/// </summary>
public sealed class MlpShape : IEquatable<MlpShape>
{
    private readonly int[] _sizes;
    private readonly int[] _weightOffsets;
    private readonly int[] _biasOffsets;

    public MlpShape(params int[] layerSizes)
    {
        ArgumentNullException.ThrowIfNull(layerSizes);
        if (layerSizes.Length < 2)
        {
            throw new ArgumentException("an MLP needs at least an input and an output size.", nameof(layerSizes));
        }

        foreach (var size in layerSizes)
        {
            if (size <= 0 || size > 1 << 20)
            {
                throw new ArgumentException($"layer size {size} is outside 1..{1 << 20}.", nameof(layerSizes));
            }
        }

        if (layerSizes[^1] < 2)
        {
            throw new ArgumentException("the output layer needs at least 2 classes.", nameof(layerSizes));
        }

        _sizes = (int[])layerSizes.Clone();
        _weightOffsets = new int[LayerCount];
        _biasOffsets = new int[LayerCount];
        long offset = 0;
        for (var l = 0; l < LayerCount; l++)
        {
            _weightOffsets[l] = checked((int)offset);
            offset += (long)_sizes[l] * _sizes[l + 1];
            _biasOffsets[l] = checked((int)offset);
            offset += _sizes[l + 1];
        }

        ParameterCount = checked((int)offset);
    }

    /// <summary>784-256-10: the Fashion-MNIST / MNIST default.</summary>
    public static MlpShape Default { get; } = new(784, 256, 10);

    public IReadOnlyList<int> Sizes => _sizes;

    public int InputSize => _sizes[0];

    public int ClassCount => _sizes[^1];

    /// <summary>Number of Gemm layers (sizes minus one).</summary>
    public int LayerCount => _sizes.Length - 1;

    public int ParameterCount { get; }

    public int InputsOf(int layer) => _sizes[layer];

    public int OutputsOf(int layer) => _sizes[layer + 1];

    public int WeightOffset(int layer) => _weightOffsets[layer];

    public int BiasOffset(int layer) => _biasOffsets[layer];

    public int WeightCount(int layer) => _sizes[layer] * _sizes[layer + 1];

    /// <summary>Parses "784,256,10" or "784-256-10".</summary>
    public static MlpShape Parse(string text)
    {
        var parts = text.Split([',', '-', 'x'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = new int[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out sizes[i]))
            {
                throw new FormatException($"layer sizes '{text}': '{parts[i]}' is not a positive integer.");
            }
        }

        return new MlpShape(sizes);
    }

    public bool Equals(MlpShape? other) => other is not null && _sizes.AsSpan().SequenceEqual(other._sizes);

    public override bool Equals(object? obj) => Equals(obj as MlpShape);

    public override int GetHashCode()
    {
        var hash = new HashCode();
        foreach (var size in _sizes)
        {
            hash.Add(size);
        }

        return hash.ToHashCode();
    }

    public override string ToString() => string.Join('-', _sizes);
}
