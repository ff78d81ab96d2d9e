using DatasetQuant.Onnx.Model;

namespace DatasetQuant.Onnx.Tests.NodeTests;

/// <summary>Why a node test did not pass. Only <see cref="Mismatch"/> and <see cref="BindingError"/> could be the binding's fault.</summary>
internal enum NodeTestOutcome
{
    Passed,
    UnsupportedOperator,
    TrainingOperator,
    RandomOutput,
    NonTensorValue,
    TestDataDisagreesWithModel,
    Mismatch,
    BindingError,
}

internal sealed record NodeTestResult(string Name, NodeTestOutcome Outcome, string Detail);

/// <summary>
/// Runs one of ONNX's node tests (model.onnx plus test_data_set_*/input_N.pb and output_N.pb): loads the model in
/// ONNX Runtime through the binding, feeds the inputs, and compares every output with ONNX's tolerance
/// (rtol 1e-3, atol 1e-7, NaN equals NaN).
/// </summary>
internal static class OnnxNodeTestRunner
{
    // Ops whose outputs are random by definition: ONNX's expected outputs are one draw, not a contract.
    private static readonly string[] RandomOps = ["bernoulli", "random", "training_dropout"];

    public static NodeTestResult Run(string directory)
    {
        var name = Path.GetFileName(directory);
        return RunAndClassify(directory, name, random: RandomOps.Any(op => name.Contains(op, StringComparison.Ordinal)));
    }

    private static NodeTestResult RunAndClassify(string directory, string name, bool random)
    {
        var modelPath = Path.Combine(directory, "model.onnx");
        var model = OnnxModelReader.ReadFile(modelPath);
        if (model.Opsets.ContainsKey("ai.onnx.preview.training"))
        {
            return new(name, NodeTestOutcome.TrainingOperator, "ai.onnx.preview.training domain (this inference build has no training ops)");
        }

        OnnxSession session;
        try
        {
            session = OnnxSession.Load(modelPath, new OnnxSessionOptions { IntraOpThreads = 1 });
        }
        catch (OnnxRuntimeException ex)
        {
            return new(name, NodeTestOutcome.UnsupportedOperator, FirstLine(ex.Message));
        }

        using (session)
        {
            if (session.Inputs.Concat(session.Outputs).FirstOrDefault(i => !Readable(i)) is { } unreadable)
            {
                return new(name, NodeTestOutcome.NonTensorValue, $"{unreadable} is not a tensor, sequence of tensors or optional");
            }

            foreach (var dataSet in Directory.GetDirectories(directory, "test_data_set_*").Order(StringComparer.Ordinal))
            {
                var result = RunDataSet(session, dataSet, name);
                if (result is not null)
                {
                    return random && result.Outcome == NodeTestOutcome.Mismatch ? result with { Outcome = NodeTestOutcome.RandomOutput } : result;
                }
            }
        }

        return new(name, NodeTestOutcome.Passed, string.Empty);
    }

    private static NodeTestResult? RunDataSet(OnnxSession session, string dataSet, string name)
    {
        var inputs = new List<OnnxValue>();
        for (var i = 0; File.Exists(Path.Combine(dataSet, $"input_{i}.pb")); i++)
        {
            inputs.Add(Load(Path.Combine(dataSet, $"input_{i}.pb"), session.Inputs[i], session.Inputs));
        }

        var expected = new List<OnnxValue>();
        for (var i = 0; File.Exists(Path.Combine(dataSet, $"output_{i}.pb")); i++)
        {
            expected.Add(Load(Path.Combine(dataSet, $"output_{i}.pb"), session.Outputs[i], session.Outputs));
        }

        foreach (var input in inputs.OfType<OnnxTensor>())
        {
            var declared = session.Input(input.Name).Shape;
            if (declared.Length != input.Shape.Length)
            {
                return new(name, NodeTestOutcome.TestDataDisagreesWithModel,
                    $"{input.Name}: test data rank {input.Shape.Length}, model declares rank {declared.Length}");
            }
        }

        OnnxValue[] actual;
        try
        {
            actual = session.RunValues(inputs, expected.Select(e => e.Name).ToArray());
        }
        catch (OnnxRuntimeException ex)
        {
            var outcome = ex.Message.Contains("NOT_IMPLEMENTED", StringComparison.OrdinalIgnoreCase) || ex.ErrorCode == OrtErrorCode.NotImplemented
                ? NodeTestOutcome.UnsupportedOperator
                : NodeTestOutcome.BindingError;
            return new(name, outcome, FirstLine(ex.Message));
        }
        catch (NotSupportedException ex)
        {
            return new(name, NodeTestOutcome.BindingError, FirstLine(ex.Message));
        }

        for (var i = 0; i < expected.Count; i++)
        {
            var difference = ValueComparer.Difference(expected[i], actual[i]);
            if (difference is not null)
            {
                return new(name, NodeTestOutcome.Mismatch, $"{Path.GetFileName(dataSet)} {expected[i].Name}: {difference}");
            }
        }

        return null;
    }

    private static bool Readable(OnnxTensorInfo info) => info.Kind switch
    {
        OnnxValueKind.Tensor => true,
        OnnxValueKind.Sequence or OnnxValueKind.Optional => info.Contained is { } inner && Readable(inner),
        _ => false,
    };

    /// <summary>
    /// Reads input_N.pb/output_N.pb as the kind the model declares at position N (the file does not say which message
    /// it holds), under the name it carries (or the model's, when it has none), fitted to the declared element type.
    /// </summary>
    private static OnnxValue Load(string path, OnnxTensorInfo atPosition, IReadOnlyList<OnnxTensorInfo> all)
    {
        var value = OnnxValueReader.ReadFile(path, atPosition.Kind);
        var valueName = string.IsNullOrEmpty(value.Name) ? atPosition.Name : value.Name;
        var declared = all.FirstOrDefault(i => i.Name == valueName) ?? atPosition;
        return Fit(value.WithName(valueName), declared);
    }

    private static OnnxValue Fit(OnnxValue value, OnnxTensorInfo declared) => value switch
    {
        OnnxTensor t => Retag(t, declared.ElementType),
        OnnxSequence s => new OnnxSequence(s.Name, s.Count == 0 ? declared.ElementType : Retag(s.ElementType, declared.ElementType),
            s.Elements.Select(e => Retag(e, declared.ElementType)).ToArray()),
        OnnxOptional { Value: { } inner } o => new OnnxOptional(o.Name, Fit(inner, declared.Contained ?? declared)),
        _ => value,
    };

    /// <summary>
    /// ONNX's test data stores bfloat16 tensors with data_type UINT16 (same bits); give them the model's declared type.
    /// </summary>
    private static OnnxTensor Retag(OnnxTensor t, OnnxElementType declared) =>
        Retag(t.ElementType, declared) != t.ElementType ? new OnnxTensor(t.Name, declared, t.Shape, t.Data) : t;

    private static OnnxElementType Retag(OnnxElementType stored, OnnxElementType declared) =>
        stored == OnnxElementType.UInt16 && declared == OnnxElementType.BFloat16 ? declared : stored;

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        var line = newline < 0 ? text : text[..newline];
        return line.Length > 500 ? line[..500] : line;
    }
}
