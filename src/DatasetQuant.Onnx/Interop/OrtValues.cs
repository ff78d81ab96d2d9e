namespace DatasetQuant.Onnx.Interop;

/// <summary>
/// Copies managed <see cref="OnnxValue"/>s into ORT-owned values and back: tensors, sequences of tensors
/// (<c>CreateValue</c> with ONNX_TYPE_SEQUENCE; <c>GetValueCount</c>/<c>GetValue</c>) and optionals (<c>HasValue</c>;
/// a present optional is passed and returned as the value it holds).
/// </summary>
internal static unsafe class OrtValues
{
    private const int OnnxTypeSequence = 2;

    /// <summary>An ORT value for input <paramref name="declared"/>; the caller releases it.</summary>
    public static nint CreateCopy(OnnxValue value, OnnxTensorInfo declared)
    {
        var expected = declared.Kind == OnnxValueKind.Optional && value is not OnnxOptional ? declared.Contained : declared;
        if (expected is not null && expected.Kind != value.Kind)
        {
            throw new ArgumentException($"Input '{declared}' was given a {value.Kind.ToString().ToLowerInvariant()} value.", nameof(value));
        }

        return value switch
        {
            OnnxTensor tensor => OrtTensorValues.Create(tensor),
            OnnxSequence sequence => CreateSequence(sequence),
            OnnxOptional { Value: { } inner } => CreateCopy(inner, declared.Contained ?? declared),
            OnnxOptional => throw new ArgumentException($"Input '{value.Name}' is None; leave it out of the feed.", nameof(value)),
            _ => throw new NotSupportedException($"Input '{value.Name}' is a {value.Kind}, which DatasetQuant does not pass."),
        };
    }

    /// <summary>Reads output <paramref name="value"/> (not released here) as the kind <paramref name="declared"/> says.</summary>
    public static OnnxValue ReadCopy(nint value, OnnxTensorInfo declared)
    {
        if (declared.Kind == OnnxValueKind.Optional)
        {
            int hasValue;
            OrtStatus.Check(OrtApi.HasValue(value, &hasValue), $"reading optional output '{declared.Name}'");
            return hasValue == 0
                ? OnnxOptional.None(declared.Name)
                : new OnnxOptional(declared.Name, ReadCopy(value, declared.Contained
                    ?? throw new OnnxRuntimeException($"Optional output '{declared.Name}' does not say what it holds.")));
        }

        int kind;
        OrtStatus.Check(OrtApi.GetValueType(value, &kind));
        return (OnnxValueKind)kind switch
        {
            OnnxValueKind.Tensor => OrtTensorValues.Read(value, declared.Name),
            OnnxValueKind.Sequence => ReadSequence(value, declared),
            _ => throw new NotSupportedException(
                $"Output '{declared.Name}' is a {(OnnxValueKind)kind}; DatasetQuant reads tensors, sequences of tensors and optionals."),
        };
    }

    public static void ReleaseAll(nint[] values)
    {
        foreach (var value in values)
        {
            if (value != 0)
            {
                OrtApi.ReleaseValue(value);
            }
        }
    }

    private static nint CreateSequence(OnnxSequence sequence)
    {
        if (sequence.Count == 0)
        {
            return OrtEmptySequence.Create(sequence.ElementType, sequence.Name);
        }

        var elements = new nint[sequence.Count];
        var count = sequence.Count;
        try
        {
            for (var i = 0; i < count; i++)
            {
                elements[i] = OrtTensorValues.Create(sequence.Elements[i]);
            }

            nint value;
            fixed (nint* e = elements)
            {
                OrtStatus.Check(OrtApi.CreateValue(e, (nuint)count, OnnxTypeSequence, &value), $"creating sequence input '{sequence.Name}'");
            }

            return value;
        }
        finally
        {
            // The sequence holds its own references to the elements.
            ReleaseAll(elements);
        }
    }

    private static OnnxSequence ReadSequence(nint value, OnnxTensorInfo declared)
    {
        nuint count;
        OrtStatus.Check(OrtApi.GetValueCount(value, &count), $"reading sequence output '{declared.Name}'");
        var allocator = OnnxRuntime.DefaultAllocator;
        var elements = new OnnxTensor[(int)count];
        for (var i = 0; i < elements.Length; i++)
        {
            nint element;
            OrtStatus.Check(OrtApi.GetValue(value, i, allocator, &element), $"reading element {i} of sequence output '{declared.Name}'");
            try
            {
                elements[i] = OrtTensorValues.Read(element, declared.Name);
            }
            finally
            {
                OrtApi.ReleaseValue(element);
            }
        }

        var elementType = elements.Length > 0 ? elements[0].ElementType : declared.ElementType;
        return new OnnxSequence(declared.Name, elementType, elements);
    }
}
