namespace DatasetQuant.Onnx;

/// <summary>
/// An ONNX optional value: either a tensor or sequence (<see cref="Value"/>), or nothing at all (ONNX's None), as
/// taken by OptionalHasElement or returned by Optional. A None input is left out of the run, which is how ONNX
/// Runtime receives an absent optional.
/// </summary>
public sealed class OnnxOptional : OnnxValue
{
    public OnnxOptional(string name, OnnxValue? value)
        : base(name)
    {
        if (value is OnnxOptional)
        {
            throw new ArgumentException($"Optional '{name}' cannot hold another optional (ONNX Runtime has no optional of optional).", nameof(value));
        }

        Value = value;
    }

    public override OnnxValueKind Kind => OnnxValueKind.Optional;

    /// <summary>The contained tensor or sequence, named like the optional; null for None.</summary>
    public OnnxValue? Value { get; }

    public bool HasValue => Value is not null;

    public static OnnxOptional None(string name) => new(name, null);

    public override OnnxValue WithName(string name) => new OnnxOptional(name, Value?.WithName(name));

    public override string ToString() => HasValue ? $"{Name}: optional({Value})" : $"{Name}: optional(none)";
}
