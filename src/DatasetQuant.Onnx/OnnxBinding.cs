using System.Buffers;
using System.Runtime.InteropServices;
using DatasetQuant.Onnx.Interop;

namespace DatasetQuant.Onnx;

/// <summary>
/// Caller buffers bound to a session's inputs and outputs. The buffers are pinned for the binding's lifetime and
/// wrapped in ORT values once; <see cref="Run"/> then only calls the native Run, so a batch allocates nothing.
/// <see cref="SetBatchSize"/> changes the leading dimension of every bound tensor (the last, short batch) and
/// re-wraps the same memory. One binding is for one thread at a time.
/// </summary>
public sealed unsafe class OnnxBinding : IDisposable
{
    private readonly OnnxSession _session;
    private readonly List<Entry> _inputs = [];
    private readonly List<Entry> _outputs = [];
    private nint[] _inputNames = [];
    private nint[] _inputValues = [];
    private nint[] _outputNames = [];
    private nint[] _outputValues = [];
    private bool _dirty = true;
    private bool _disposed;

    internal OnnxBinding(OnnxSession session) => _session = session;

    public OnnxSession Session => _session;

    public OnnxBinding BindInput(string name, Memory<float> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, OnnxElementType.Float, sizeof(float), shape);

    public OnnxBinding BindInput(string name, Memory<long> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, OnnxElementType.Int64, sizeof(long), shape);

    public OnnxBinding BindInput(string name, Memory<int> buffer, params long[] shape) =>
        Bind(_inputs, _session.InputIndex(name), name, buffer.Pin(), buffer.Length, OnnxElementType.Int32, sizeof(int), shape);

    public OnnxBinding BindOutput(string name, Memory<float> buffer, params long[] shape) =>
        Bind(_outputs, _session.OutputIndex(name), name, buffer.Pin(), buffer.Length, OnnxElementType.Float, sizeof(float), shape);

    public OnnxBinding BindOutput(string name, Memory<long> buffer, params long[] shape) =>
        Bind(_outputs, _session.OutputIndex(name), name, buffer.Pin(), buffer.Length, OnnxElementType.Int64, sizeof(long), shape);

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
            Rewrap();
        }

        fixed (nint* inNames = _inputNames)
        fixed (nint* inValues = _inputValues)
        fixed (nint* outNames = _outputNames)
        fixed (nint* outValues = _outputValues)
        {
            _session.RunNative(inNames, inValues, _inputValues.Length, outNames, outValues, _outputValues.Length);
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        ReleaseValues();
        foreach (var entry in _inputs.Concat(_outputs))
        {
            entry.Pin.Dispose();
        }
    }

    private OnnxBinding Bind(List<Entry> list, int index, string name, MemoryHandle pin, int capacity, OnnxElementType type, int elementSize, long[] shape)
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
            list[existing].Pin.Dispose();
            list[existing] = entry;
        }
        else
        {
            list.Add(entry);
        }

        _dirty = true;
        return this;
    }

    private void Rewrap()
    {
        ReleaseValues();
        _inputNames = new nint[_inputs.Count];
        _inputValues = new nint[_inputs.Count];
        _outputNames = new nint[_outputs.Count];
        _outputValues = new nint[_outputs.Count];
        for (var i = 0; i < _inputs.Count; i++)
        {
            _inputNames[i] = _session.InputNamePointer(_inputs[i].Index);
            _inputValues[i] = Wrap(_inputs[i]);
        }

        for (var i = 0; i < _outputs.Count; i++)
        {
            _outputNames[i] = _session.OutputNamePointer(_outputs[i].Index);
            _outputValues[i] = Wrap(_outputs[i]);
        }

        _dirty = false;
    }

    private static nint Wrap(Entry entry)
    {
        var bytes = (nuint)(OnnxTensor.ElementCountOf(entry.Shape) * entry.ElementSize);
        nint value;
        fixed (long* shape = entry.Shape)
        {
            OrtStatus.Check(OrtApi.CreateTensorWithDataAsOrtValue(OnnxRuntime.CpuMemoryInfo, entry.Pin.Pointer, bytes, shape,
                (nuint)entry.Shape.Length, (int)entry.Type, &value), $"binding '{entry.Name}'");
        }

        return value;
    }

    private void ReleaseValues()
    {
        foreach (var values in new[] { _inputValues, _outputValues })
        {
            for (var i = 0; i < values.Length; i++)
            {
                if (values[i] != 0)
                {
                    OrtApi.ReleaseValue(values[i]);
                    values[i] = 0;
                }
            }
        }
    }

    private sealed record Entry(string Name, int Index, MemoryHandle Pin, int Capacity, OnnxElementType Type, int ElementSize, long[] Shape);
}
