using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>
/// Copies managed <see cref="OnnxValue"/>s into ONNX Runtime's <see cref="OrtValue"/>s and back: tensors (strings too),
/// sequences of tensors (<see cref="OrtValue.CreateSequence"/>, <see cref="OrtValue.GetValue"/>) and optionals (a
/// present optional is passed and returned as the value it holds).
/// </summary>
internal static class OrtValueConversion
{
    /// <summary>An ORT value for input <paramref name="declared"/>; the caller disposes it.</summary>
    public static OrtValue Create(OnnxValue value, OnnxTensorInfo declared)
    {
        var expected = declared.Kind == OnnxValueKind.Optional && value is not OnnxOptional ? declared.Contained : declared;
        if (expected is not null && expected.Kind != value.Kind)
        {
            throw new ArgumentException($"Input '{declared}' was given a {value.Kind.ToString().ToLowerInvariant()} value.", nameof(value));
        }

        try
        {
            return value switch
            {
                OnnxTensor tensor => CreateTensor(tensor),
                OnnxSequence sequence => CreateSequence(sequence),
                OnnxOptional { Value: { } inner } => Create(inner, declared.Contained ?? declared),
                OnnxOptional => throw new ArgumentException($"Input '{value.Name}' is None; leave it out of the feed.", nameof(value)),
                _ => throw new NotSupportedException($"Input '{value.Name}' is a {value.Kind}, which DatasetQuant does not pass."),
            };
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"creating input '{value.Name}'");
        }
    }

    /// <summary>Reads output <paramref name="value"/> (not disposed here) as the kind <paramref name="declared"/> says.</summary>
    public static OnnxValue Read(OrtValue value, OnnxTensorInfo declared)
    {
        try
        {
            if (declared.Kind == OnnxValueKind.Optional)
            {
                var contained = declared.Contained ?? throw new OnnxRuntimeException($"Optional output '{declared.Name}' does not say what it holds.");
                return OptionalHolds(value)
                    ? new OnnxOptional(declared.Name, Read(value, contained))
                    : OnnxOptional.None(declared.Name);
            }

            return value.OnnxType switch
            {
                OnnxValueType.ONNX_TYPE_TENSOR => ReadTensor(value, declared.Name),
                OnnxValueType.ONNX_TYPE_SEQUENCE => ReadSequence(value, declared),
                var other => throw new NotSupportedException(
                    $"Output '{declared.Name}' is a {other}; DatasetQuant reads tensors, sequences of tensors and optionals."),
            };
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"reading output '{declared.Name}'");
        }
    }

    private static OrtValue CreateTensor(OnnxTensor tensor)
    {
        if (tensor.ElementType == OnnxElementType.String)
        {
            var strings = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, tensor.Shape);
            for (var i = 0; i < tensor.Strings!.Length; i++)
            {
                strings.StringTensorSetElementAt(tensor.Strings[i].AsSpan(), i);
            }

            return strings;
        }

        var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, (TensorElementType)(int)tensor.ElementType, tensor.Shape);
        try
        {
            if (tensor.Data.Length > 0)
            {
                tensor.Data.CopyTo(value.GetTensorMutableRawData());
            }

            return value;
        }
        catch
        {
            value.Dispose();
            throw;
        }
    }

    private static OrtValue CreateSequence(OnnxSequence sequence)
    {
        if (sequence.Count == 0)
        {
            return EmptySequence.Create(sequence.ElementType, sequence.Name);
        }

        var elements = new List<OrtValue>(sequence.Count);
        try
        {
            foreach (var element in sequence.Elements)
            {
                elements.Add(CreateTensor(element));
            }

            return OrtValue.CreateSequence(elements); // takes the elements over and clears the list
        }
        finally
        {
            foreach (var element in elements)
            {
                element.Dispose();
            }
        }
    }

    private static OnnxTensor ReadTensor(OrtValue value, string name)
    {
        var info = value.GetTensorTypeAndShape();
        var type = (OnnxElementType)(int)info.ElementDataType;
        var shape = info.Shape;
        if (type == OnnxElementType.String)
        {
            return new OnnxTensor(name, shape, value.GetStringTensorAsArray());
        }

        var bytes = OnnxElementTypes.ByteLength(type, OnnxTensor.ElementCountOf(shape)) == 0 ? [] : value.GetTensorMutableRawData().ToArray();
        return new OnnxTensor(name, type, shape, bytes);
    }

    private static OnnxSequence ReadSequence(OrtValue value, OnnxTensorInfo declared)
    {
        var elements = new OnnxTensor[value.GetValueCount()];
        for (var i = 0; i < elements.Length; i++)
        {
            using var element = value.GetValue(i, OrtAllocator.DefaultInstance);
            elements[i] = ReadTensor(element, declared.Name);
        }

        var elementType = elements.Length > 0 ? elements[0].ElementType : declared.ElementType;
        return new OnnxSequence(declared.Name, elementType, elements);
    }

    /// <summary>
    /// Whether an optional output holds a value. ONNX Runtime returns a None optional as a value of the contained
    /// type without data; the managed API has no HasValue, so ask for the data's type and shape, which only a
    /// present value has.
    /// </summary>
    private static bool OptionalHolds(OrtValue value)
    {
        switch (value.OnnxType)
        {
            case OnnxValueType.ONNX_TYPE_TENSOR:
                try
                {
                    _ = value.GetTensorTypeAndShape();
                    return true;
                }
                catch (Ort.OnnxRuntimeException)
                {
                    return false;
                }

            case OnnxValueType.ONNX_TYPE_SEQUENCE:
                try
                {
                    _ = value.GetValueCount();
                    return true;
                }
                catch (Ort.OnnxRuntimeException)
                {
                    return false;
                }

            default:
                return false;
        }
    }
}
