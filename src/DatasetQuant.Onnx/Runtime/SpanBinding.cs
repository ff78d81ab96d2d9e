using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>
/// The io-binding behind <see cref="OnnxSession.Run(int, ReadOnlySpan{float}, ReadOnlySpan{long}, int, Span{float}, ReadOnlySpan{long})"/>.
/// A tensor value over caller memory only stores the address, so it is remade (and re-bound) only when the address,
/// length, shape or name differs from the last run's: a caller that runs batch after batch on the same buffers
/// allocates nothing. The memory is pinned by the caller's <c>fixed</c> for the duration of each run.
/// </summary>
internal sealed class SpanBinding(OrtIoBinding binding) : IDisposable
{
    private readonly Slot _input = new();
    private readonly Slot _output = new();

    public unsafe void Run(OnnxSession session, string inputName, ReadOnlySpan<float> input, ReadOnlySpan<long> inputShape,
        string outputName, Span<float> output, ReadOnlySpan<long> outputShape)
    {
        fixed (float* inPtr = input)
        fixed (float* outPtr = output)
        {
            if (_input.Update(inputName, (nint)inPtr, input.Length, inputShape) is { } inValue)
            {
                binding.ClearBoundInputs();
                binding.BindInput(inputName, inValue);
            }

            if (_output.Update(outputName, (nint)outPtr, output.Length, outputShape) is { } outValue)
            {
                binding.ClearBoundOutputs();
                binding.BindOutput(outputName, outValue);
            }

            session.RunWithBinding(binding);
        }
    }

    public void Dispose()
    {
        binding.Dispose();
        _input.Dispose();
        _output.Dispose();
    }

    private sealed class Slot : IDisposable
    {
        private string? _name;
        private nint _address;
        private int _length;
        private long[] _shape = [];
        private OrtValue? _value;

        /// <summary>A new value when anything differs from the last call, else null (the bound one still fits).</summary>
        public OrtValue? Update(string name, nint address, int length, ReadOnlySpan<long> shape)
        {
            if (_value is not null && address == _address && length == _length && shape.SequenceEqual(_shape) && ReferenceEquals(name, _name))
            {
                return null;
            }

            _value?.Dispose();
            _value = null;
            _name = name;
            _address = address;
            _length = length;
            _shape = shape.ToArray();
            _value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, TensorElementType.Float, _shape, address, (long)length * sizeof(float));
            return _value;
        }

        public void Dispose()
        {
            _value?.Dispose();
            _value = null;
        }
    }
}
