namespace DatasetQuant.Onnx;

/// <summary>
/// A named model input or output held in managed memory: a tensor (<see cref="OnnxTensor"/>), a sequence of tensors
/// (<see cref="OnnxSequence"/>) or an optional value that may be absent (<see cref="OnnxOptional"/>). Used by the
/// allocating <see cref="OnnxSession.RunValues"/>; hot paths bind spans instead.
/// </summary>
public abstract class OnnxValue
{
    private protected OnnxValue(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        Name = name;
    }

    public string Name { get; }

    public abstract OnnxValueKind Kind { get; }

    /// <summary>The same contents under another name (test data often names values differently from the model).</summary>
    public abstract OnnxValue WithName(string name);
}
