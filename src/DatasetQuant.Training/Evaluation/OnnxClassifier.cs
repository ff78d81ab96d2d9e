using DatasetQuant.Onnx;
using DatasetQuant.Training.Model;

namespace DatasetQuant.Training.Evaluation;

/// <summary>
/// A classifier run through ONNX Runtime: [N, features] float in, logits [N, classes] out. Takes the output named
/// "logits" when there is one (DatasetQuant's own exports), else the first output.
/// </summary>
public sealed class OnnxClassifier : IDisposable
{
    private readonly OnnxSession _session;
    private readonly int _outputIndex;
    private readonly long[] _inputShape = new long[2];
    private readonly long[] _outputShape = new long[2];

    public OnnxClassifier(string path, OnnxSessionOptions? options = null)
    {
        Source = path;
        _session = OnnxSession.Load(path, options);
        try
        {
            if (_session.Inputs.Count != 1)
            {
                throw new InvalidDataException($"ONNX model '{path}' has {_session.Inputs.Count} inputs; a classifier takes one [N, features] tensor.");
            }

            var input = _session.Inputs[0];
            _outputIndex = Math.Max(0, FindOutput(_session, MlpOnnxExporter.LogitsName));
            var output = _session.Outputs[_outputIndex];
            FeatureCount = FlatSize(input.Shape, path, input.Name);
            ClassCount = FlatSize(output.Shape, path, output.Name);
            if (input.ElementType != OnnxElementType.Float || output.ElementType != OnnxElementType.Float)
            {
                throw new InvalidDataException($"ONNX model '{path}': input {input} and output {output} must both be float32.");
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public string Source { get; }

    public int FeatureCount { get; }

    public int ClassCount { get; }

    /// <summary>Logits of <paramref name="batch"/> samples into <paramref name="logits"/> (batch × classes). No managed allocation.</summary>
    public void Predict(ReadOnlySpan<float> samples, int batch, Span<float> logits)
    {
        _inputShape[0] = batch;
        _inputShape[1] = FeatureCount;
        _outputShape[0] = batch;
        _outputShape[1] = ClassCount;
        _session.Run(0, samples[..(batch * FeatureCount)], _inputShape, _outputIndex, logits[..(batch * ClassCount)], _outputShape);
    }

    public void Dispose() => _session.Dispose();

    private static int FindOutput(OnnxSession session, string name)
    {
        for (var i = 0; i < session.Outputs.Count; i++)
        {
            if (string.Equals(session.Outputs[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    // [N, d1, d2, ...] with a batch axis first: the product of the fixed dimensions after it.
    private static int FlatSize(long[] shape, string path, string name)
    {
        if (shape.Length < 2)
        {
            throw new InvalidDataException($"ONNX model '{path}': '{name}' has shape [{string.Join(",", shape)}], a classifier needs [N, ...].");
        }

        long size = 1;
        for (var i = 1; i < shape.Length; i++)
        {
            if (shape[i] <= 0)
            {
                throw new InvalidDataException($"ONNX model '{path}': '{name}' dimension {i} is not fixed.");
            }

            size *= shape[i];
        }

        return checked((int)size);
    }
}
