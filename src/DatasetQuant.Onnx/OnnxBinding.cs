using System.Buffers;
using DatasetQuant.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx;

/// <summary>
/// Caller buffers bound to a session's inputs and outputs through ONNX Runtime's <see cref="OrtIoBinding"/>. The
/// buffers are pinned for the binding's lifetime and wrapped in <see cref="OrtValue"/>s once; <see cref="Run"/> then
/// only calls <c>RunWithBinding</c>, so a batch allocates nothing. <see cref="SetBatchSize"/> changes the leading
/// dimension of every bound tensor (the last, short batch) and re-binds the same memory. One binding is for one
/// thread at a time.
/// </summary>
public sealed class OnnxBinding : IDisposable
{
    private readonly OnnxSession _session;
    private readonly OrtIoBinding _binding;
    private readonly List<Entry> _inputs = [];
    private readonly List<Entry> _outputs = [];
    private bool _dirty = true;
    private bool _disposed;

    internal OnnxBinding(OnnxSession session, OrtIoBinding binding)
    {
        _session = session;
        _binding = binding;
    }

    public OnnxSession Session => _session;

    public OnnxBinding BindInput(string name, Memory<float> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, TensorElementType.Float, sizeof(float), shape);

    public OnnxBinding BindInput(string name, Memory<long> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, TensorElementType.Int64, sizeof(long), shape);

    public OnnxBinding BindInput(string name, Memory<int> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, TensorElementType.Int32, sizeof(int), shape);

    public OnnxBinding BindOutput(string name, Memory<float> buffer, params long[] shape) =>
        Bind(_outputs, _session.OutputIndex(name), name, buffer.Pin(), buffer.Length, TensorElementType.Float, sizeof(float), shape);

    public OnnxBinding BindOutput(string name, Memory<long> buffer, params long[] shape) =>
        Bind(_outputs, _session.OutputIndex(name), name, buffer.Pin(), buffer.Length, TensorElementType.Int64, sizeof(long), shape);

    /// <summary>Sets dimension 0 of every bound tensor to <paramref name="batch"/>; the buffers must hold that many rows.</summary>
    public void SetBatchSize(int batch)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        foreach (var entry in _inputs.Concat(_outputs))
        {
            if (entry.Shape.Length == 0 || entry.Shape[0] == batch)
            {
                continue;
            }

            var old = entry.Shape[0];
            entry.Shape[0] = batch;
            if (OnnxTensor.ElementCountOf(entry.Shape) > entry.Capacity)
            {
                entry.Shape[0] = old;
                throw new ArgumentOutOfRangeException(nameof(batch), $"Batch {batch} does not fit the buffer bound to '{entry.Name}' ({entry.Capacity} elements).");
            }

            _dirty = true;
        }
    }

    /// <summary>Runs the session on the bound buffers; outputs land in the output buffers.</summary>
    public void Run()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_dirty)
        {
            Rebind();
        }

        _session.RunWithBinding(_binding);
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _binding.Dispose();
        foreach (var entry in _inputs.Concat(_outputs))
        {
            entry.Release();
        }
    }

    private OnnxBinding Bind(List<Entry> list, int index, string name, MemoryHandle pin, int capacity, TensorElementType type, int elementSize, long[] shape)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entry = new Entry(name, index, pin, capacity, type, elementSize, (long[])shape.Clone());
        if (OnnxTensor.ElementCountOf(entry.Shape) > capacity)
        {
            pin.Dispose();
            throw new ArgumentException($"Shape [{string.Join(",", shape)}] does not fit the buffer bound to '{name}' ({capacity} elements).", nameof(shape));
        }

        var existing = list.FindIndex(e => e.Index == index);
        if (existing >= 0)
        {
            list[existing].Release();
            list[existing] = entry;
        }
        else
        {
            list.Add(entry);
        }

        _dirty = true;
        return this;
    }

    private void Rebind()
    {
        try
        {
            foreach (var entry in _inputs)
            {
                _binding.BindInput(entry.Name, entry.Wrap());
            }

            foreach (var entry in _outputs)
            {
                _binding.BindOutput(entry.Name, entry.Wrap());
            }
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"binding buffers to '{_session.Source}'");
        }

        _dirty = false;
    }

    private sealed class Entry(string name, int index, MemoryHandle pin, int capacity, TensorElementType type, int elementSize, long[] shape)
    {
        private MemoryHandle _pin = pin;
        private OrtValue? _value;

        public string Name => name;

        public int Index => index;

        public int Capacity => capacity;

        public long[] Shape => shape;

        /// <summary>A tensor value over the pinned buffer with the current shape (the previous one, if any, is released).</summary>
        public unsafe OrtValue Wrap()
        {
            _value?.Dispose();
            _value = OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, shape, (nint)_pin.Pointer, (long)capacity * elementSize);
            return _value;
        }

        public void Release()
        {
            _value?.Dispose();
            _value = null;
            _pin.Dispose();
        }
    }
}
