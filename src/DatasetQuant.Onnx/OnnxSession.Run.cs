using DatasetQuant.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx;

public sealed partial class OnnxSession
{
    // One reusable span binding, taken by the thread that runs and put back after; concurrent span runs make their own.
    private SpanBinding? _spanRunner;

    /// <summary>
    /// Runs a model with one float input and reads its first output into <paramref name="output"/> (e.g. a classifier:
    /// [N,784] → logits [N,10]). The caller's memory is handed to ONNX Runtime as is; while the caller keeps passing
    /// the same buffers and shapes, nothing managed is allocated.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output, ReadOnlySpan<long> outputShape) =>
        Run(0, input, inputShape, 0, output, outputShape);

    /// <summary>Runs with the float input at <paramref name="inputIndex"/> and reads the float output at <paramref name="outputIndex"/>.</summary>
    public void Run(int inputIndex, ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape,
        int outputIndex, Span<float> output, ReadOnlySpan<long> outputShape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)inputIndex, (uint)Inputs.Count, nameof(inputIndex));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)outputIndex, (uint)Outputs.Count, nameof(outputIndex));
        CheckLength(input.Length, inputShape, Inputs[inputIndex].Name);
        CheckLength(output.Length, outputShape, Outputs[outputIndex].Name);

        var runner = Interlocked.Exchange(ref _spanRunner, null) ?? new SpanBinding(_session.CreateIoBinding());
        try
        {
            runner.Run(this, Inputs[inputIndex].Name, input, inputShape, Outputs[outputIndex].Name, output, outputShape);
        }
        finally
        {
            if (_disposed || Interlocked.CompareExchange(ref _spanRunner, runner, null) is not null)
            {
                runner.Dispose();
            }
        }
    }

    /// <summary>
    /// Runs with managed tensors named after model inputs and returns the requested outputs (all when null) with
    /// the shapes ONNX Runtime computed. Allocates; for tools, tests and one-off runs. Every requested output must
    /// be a tensor; <see cref="RunValues"/> also takes and returns sequences and optionals.
    /// </summary>
    public OnnxTensor[] Run(IReadOnlyList<OnnxTensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        var values = RunValues(inputs, outputNames);
        var tensors = new OnnxTensor[values.Length];
        for (var i = 0; i < values.Length; i++)
        {
            tensors[i] = values[i] as OnnxTensor
                ?? throw new NotSupportedException($"Output '{values[i].Name}' is a {values[i].Kind}; read it with RunValues.");
        }

        return tensors;
    }

    /// <summary>
    /// Runs with managed values (tensors, sequences of tensors, optionals) named after model inputs and returns the
    /// requested outputs (all when null) as the kinds the model declares. A None optional input is left out of the
    /// feed. Allocates; for tools, tests and one-off runs.
    /// </summary>
    public OnnxValue[] RunValues(IReadOnlyList<OnnxValue> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ObjectDisposedException.ThrowIf(_disposed, this);
        outputNames ??= Outputs.Select(o => o.Name).ToArray();
        var fed = inputs.Where(v => v is not OnnxOptional { HasValue: false }).ToArray();
        var outputInfos = outputNames.Select(Output).ToArray();
        var inputValues = new List<OrtValue>(fed.Length);
        try
        {
            foreach (var value in fed)
            {
                inputValues.Add(OrtValueConversion.Create(value, Input(value.Name)));
            }

            var inputNames = fed.Select(v => v.Name).ToArray();
            try
            {
                // A None optional output must not be fetched (see OptionalOutputProbe): ask first which are present.
                var optional = outputInfos.Where(o => o.Kind == OnnxValueKind.Optional).Select(o => o.Name).ToArray();
                var present = optional.Length == 0 ? [] : _optionalProbe!.Value.Present(inputNames, inputValues, optional);
                var absent = optional.Where((_, i) => !present[i]).ToHashSet(StringComparer.Ordinal);
                var fetched = outputNames.Where(n => !absent.Contains(n)).ToArray();
                using var results = fetched.Length == 0 ? new DisposableList() : _session.Run(_runOptions, inputNames, inputValues, fetched);
                var read = new OnnxValue[outputInfos.Length];
                using var next = results.GetEnumerator();
                for (var i = 0; i < read.Length; i++)
                {
                    read[i] = absent.Contains(outputInfos[i].Name)
                        ? OnnxOptional.None(outputInfos[i].Name)
                        : OrtValueConversion.Read(next.MoveNext() ? next.Current : throw new OnnxRuntimeException($"'{Source}' returned fewer outputs than asked for."), outputInfos[i]);
                }

                return read;
            }
            catch (Ort.OnnxRuntimeException ex)
            {
                throw OrtErrors.Translate(ex, $"running '{Source}'");
            }
        }
        finally
        {
            foreach (var value in inputValues)
            {
                value.Dispose();
            }
        }
    }

    /// <summary>The results of a run that fetched nothing (every requested output a None optional).</summary>
    private sealed class DisposableList : List<OrtValue>, IDisposableReadOnlyCollection<OrtValue>
    {
        public void Dispose()
        {
        }
    }

    private static void CheckLength(int length, ReadOnlySpan<long> shape, string name)
    {
        var needed = OnnxTensor.ElementCountOf(shape);
        if (needed != length)
        {
            throw new ArgumentException($"Tensor '{name}': shape [{string.Join(",", shape.ToArray())}] has {needed} elements but the buffer holds {length}.");
        }
    }
}
