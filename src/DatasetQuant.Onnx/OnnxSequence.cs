namespace DatasetQuant.Onnx;

/// <summary>
/// An ONNX sequence: an ordered list of tensors of one element type (shapes may differ), e.g. the input of
/// SequenceInsert or the output of SplitToSequence. The element type is kept even when the list is empty.
/// </summary>
public sealed class OnnxSequence : OnnxValue
{
    public OnnxSequence(string name, OnnxElementType elementType, IReadOnlyList<OnnxTensor> elements)
        : base(name)
    {
        ArgumentNullException.ThrowIfNull(elements);
        for (var i = 0; i < elements.Count; i++)
        {
            if (elements[i].ElementType != elementType)
            {
                throw new ArgumentException(
                    $"Sequence '{name}' holds {OnnxElementTypes.Name(elementType)} tensors, but element {i} is {OnnxElementTypes.Name(elements[i].ElementType)}.",
                    nameof(elements));
            }
        }

        ElementType = elementType;
        Elements = elements;
    }

    public override OnnxValueKind Kind => OnnxValueKind.Sequence;

    public OnnxElementType ElementType { get; }

    public IReadOnlyList<OnnxTensor> Elements { get; }

    public int Count => Elements.Count;

    public override OnnxValue WithName(string name) => new OnnxSequence(name, ElementType, Elements);

    public override string ToString() => $"{Name}: seq({OnnxElementTypes.Name(ElementType)}) of {Count}";
}
