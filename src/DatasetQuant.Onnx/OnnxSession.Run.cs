using System.Runtime.InteropServices;
using System.Text;
using DatasetQuant.Onnx.Interop;

namespace DatasetQuant.Onnx;

public sealed unsafe partial class OnnxSession
{
    /// <summary>
    /// Runs a model with one float input and reads its first output into <paramref name="output"/> (e.g. a classifier:
    /// [N,784] → logits [N,10]). Nothing managed is allocated; the caller's memory is handed to ONNX Runtime as is.
    /// </summary>
    public void Run(ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape, Span<float> output, ReadOnlySpan<long> outputShape) =>
        Run(0, input, inputShape, 0, output, outputShape);

    /// <summary>Runs with the float input at <paramref name="inputIndex"/> and reads the float output at <paramref name="outputIndex"/>.</summary>
    public void Run(int inputIndex, ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape,
        int outputIndex, Span<float> output, ReadOnlySpan<long> outputShape)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)inputIndex, (uint)Inputs.Count, nameof(inputIndex));
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual((uint)outputIndex, (uint)Outputs.Count, nameof(outputIndex));
        CheckLength(input.Length, inputShape, Inputs[inputIndex].Name);
        CheckLength(output.Length, outputShape, Outputs[outputIndex].Name);

        var memoryInfo = OnnxRuntime.CpuMemoryInfo;
        nint inputValue = 0, outputValue = 0;
        try
        {
            fixed (float* inPtr = input)
            fixed (long* inShape = inputShape)
            fixed (float* outPtr = output)
            fixed (long* outShape = outputShape)
            {
                OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(memoryInfo, inPtr, (nuint)input.Length * sizeof(float),
                    inShape, (nuint)inputShape.Length, (int)OnnxElementType.Float, &inputValue));
                OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(memoryInfo, outPtr, (nuint)output.Length * sizeof(float),
                    outShape, (nuint)outputShape.Length, (int)OnnxElementType.Float, &outputValue));
                var inName = _inputNames[inputIndex];
                var outName = _outputNames[outputIndex];
                RunNative(&inName, &inputValue, 1, &outName, &outputValue, 1);
            }
        }
        finally
        {
            if (inputValue != 0)
            {
                OrtApi.ReleaseValue(inputValue);
            }

            if (outputValue != 0)
            {
                OrtApi.ReleaseValue(outputValue);
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
        outputNames ??= Outputs.Select(o => o.Name).ToArray();
        var fed = inputs.Where(v => v is not OnnxOptional { HasValue: false }).ToArray();
        var inputValues = new nint[fed.Length];
        var inputNamePtrs = new nint[fed.Length];
        var outputNamePtrs = new nint[outputNames.Count];
        var outputValues = new nint[outputNames.Count];
        var outputInfos = new OnnxTensorInfo[outputNames.Count];
        try
        {
            for (var i = 0; i < fed.Length; i++)
            {
                var index = InputIndex(fed[i].Name);
                inputNamePtrs[i] = _inputNames[index];
                inputValues[i] = OrtValues.CreateCopy(fed[i], Inputs[index]);
            }

            for (var i = 0; i < outputNames.Count; i++)
            {
                var index = OutputIndex(outputNames[i]);
                outputNamePtrs[i] = _outputNames[index];
                outputInfos[i] = Outputs[index];
            }

            fixed (nint* inNames = inputNamePtrs)
            fixed (nint* inValues = inputValues)
            fixed (nint* outNames = outputNamePtrs)
            fixed (nint* outValues = outputValues)
            {
                RunNative(inNames, inValues, fed.Length, outNames, outValues, outputNames.Count);
            }

            var results = new OnnxValue[outputNames.Count];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = OrtValues.ReadCopy(outputValues[i], outputInfos[i]);
            }

            return results;
        }
        finally
        {
            OrtValues.ReleaseAll(inputValues);
            OrtValues.ReleaseAll(outputValues);
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
