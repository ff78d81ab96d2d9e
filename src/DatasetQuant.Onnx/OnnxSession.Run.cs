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
    /// the shapes ONNX Runtime computed. Allocates; for tools, tests and one-off runs.
    /// </summary>
    public OnnxTensor[] Run(IReadOnlyList<OnnxTensor> inputs, IReadOnlyList<string>? outputNames = null)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        outputNames ??= Outputs.Select(o => o.Name).ToArray();
        var inputValues = new nint[inputs.Count];
        var inputNamePtrs = new nint[inputs.Count];
        var outputNamePtrs = new nint[outputNames.Count];
        var outputValues = new nint[outputNames.Count];
        try
        {
            for (var i = 0; i < inputs.Count; i++)
            {
                inputNamePtrs[i] = _inputNames[InputIndex(inputs[i].Name)];
                inputValues[i] = OrtValues.CreateCopy(inputs[i]);
            }

            for (var i = 0; i < outputNames.Count; i++)
            {
                outputNamePtrs[i] = _outputNames[OutputIndex(outputNames[i])];
            }

            fixed (nint* inNames = inputNamePtrs)
            fixed (nint* inValues = inputValues)
            fixed (nint* outNames = outputNamePtrs)
            fixed (nint* outValues = outputValues)
            {
                RunNative(inNames, inValues, inputs.Count, outNames, outValues, outputNames.Count);
            }

            var results = new OnnxTensor[outputNames.Count];
            for (var i = 0; i < results.Length; i++)
            {
                results[i] = OrtValues.ReadCopy(outputValues[i], outputNames[i]);
            }

            return results;
        }
        finally
        {
            foreach (var value in inputValues)
            {
                if (value != 0)
                {
                    OrtApi.ReleaseValue(value);
                }
            }

            foreach (var value in outputValues)
            {
                if (value != 0)
                {
                    OrtApi.ReleaseValue(value);
                }
            }
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

/// <summary>Copies managed tensors into ORT-owned values and back.</summary>
internal static unsafe class OrtValues
{
    public static nint CreateCopy(OnnxTensor tensor)
    {
        nint value;
        fixed (long* shape = tensor.Shape)
        {
            OrtStatus.Check(OrtApi.CreateTensorAsOrtValue(OnnxRuntime.DefaultAllocator, shape, (nuint)tensor.Shape.Length,
                (int)tensor.ElementType, &value), $"creating input '{tensor.Name}'");
        }

        try
        {
            if (tensor.ElementType == OnnxElementType.String)
            {
                FillStrings(value, tensor.Strings!);
            }
            else if (tensor.Data.Length > 0)
            {
                void* data;
                OrtStatus.Check(OrtApi.GetTensorMutableData(value, &data));
                tensor.Data.AsSpan().CopyTo(new Span<byte>(data, tensor.Data.Length));
            }

            return value;
        }
        catch
        {
            OrtApi.ReleaseValue(value);
            throw;
        }
    }

    public static OnnxTensor ReadCopy(nint value, string name)
    {
        var (type, shape) = OrtTensorShape.OfValue(value, name);
        var count = OnnxTensor.ElementCountOf(shape);
        if (type == OnnxElementType.String)
        {
            return new OnnxTensor(name, shape, ReadStrings(value, (int)count));
        }

        var bytes = new byte[checked((int)OnnxElementTypes.ByteLength(type, count))];
        if (bytes.Length > 0)
        {
            void* data;
            OrtStatus.Check(OrtApi.GetTensorMutableData(value, &data));
            new ReadOnlySpan<byte>(data, bytes.Length).CopyTo(bytes);
        }

        return new OnnxTensor(name, type, shape, bytes);
    }

    private static void FillStrings(nint value, string[] strings)
    {
        var pointers = new nint[strings.Length];
        try
        {
            for (var i = 0; i < strings.Length; i++)
            {
                pointers[i] = Marshal.StringToCoTaskMemUTF8(strings[i]);
            }

            fixed (nint* p = pointers)
            {
                OrtStatus.Check(OrtApi.FillStringTensor(value, p, (nuint)strings.Length));
            }
        }
        finally
        {
            foreach (var p in pointers)
            {
                Marshal.FreeCoTaskMem(p);
            }
        }
    }

    private static string[] ReadStrings(nint value, int count)
    {
        nuint length;
        OrtStatus.Check(OrtApi.GetStringTensorDataLength(value, &length));
        var buffer = new byte[(int)length];
        var offsets = new nuint[Math.Max(1, count)];
        fixed (byte* b = buffer)
        fixed (nuint* o = offsets)
        {
            OrtStatus.Check(OrtApi.GetStringTensorContent(value, b, length, o, (nuint)count));
        }

        var result = new string[count];
        for (var i = 0; i < count; i++)
        {
            var start = (int)offsets[i];
            var end = i + 1 < count ? (int)offsets[i + 1] : buffer.Length;
            result[i] = Encoding.UTF8.GetString(buffer, start, end - start);
        }

        return result;
    }
}
