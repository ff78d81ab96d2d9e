namespace DatasetQuant.Onnx.Tests.NodeTests;

/// <summary>ONNX's backend-test comparison extended to sequences (same length, element by element) and optionals.</summary>
internal static class ValueComparer
{
    public static string? Difference(OnnxValue expected, OnnxValue actual)
    {
        if (expected.Kind != actual.Kind)
        {
            return $"a {actual.Kind}, expected a {expected.Kind}";
        }

        switch (expected, actual)
        {
            case (OnnxTensor e, OnnxTensor a):
                return TensorComparer.Difference(e, a);
            case (OnnxSequence e, OnnxSequence a):
                if (e.Count != a.Count)
                {
                    return $"sequence of {a.Count}, expected {e.Count}";
                }

                for (var i = 0; i < e.Count; i++)
                {
                    if (TensorComparer.Difference(e.Elements[i], a.Elements[i]) is { } d)
                    {
                        return $"element {i}: {d}";
                    }
                }

                return e.Count == 0 && e.ElementType != a.ElementType ? $"empty sequence of {a.ElementType}, expected {e.ElementType}" : null;
            case (OnnxOptional e, OnnxOptional a):
                return (e.Value, a.Value) switch
                {
                    (null, null) => null,
                    (null, _) => "has a value, expected none",
                    (_, null) => "none, expected a value",
                    var (ev, av) => Difference(ev, av),
                };
            default:
                return $"cannot compare {expected.Kind} values";
        }
    }
}
