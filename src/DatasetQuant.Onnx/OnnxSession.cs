using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using DatasetQuant.Onnx.Interop;

namespace DatasetQuant.Onnx;

/// <summary>
/// A loaded ONNX model: its inputs and outputs, and the ways to run it. <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float}, ReadOnlySpan{long})"/>
/// and <see cref="CreateBinding"/> run on caller memory and allocate nothing managed per call; the
/// <see cref="OnnxTensor"/> overload allocates and suits tests and tools. Runs may come from several threads at once.
/// </summary>
public sealed unsafe partial class OnnxSession : IDisposable
{
    private readonly OrtSessionHandle _handle;
    private readonly nint* _inputNames;
    private readonly nint* _outputNames;
    private long _runCount;
    private long _runTicks;

    private OnnxSession(OrtSessionHandle handle, string source, string provider)
    {
        _handle = handle;
        Source = source;
        ExecutionProvider = provider;
        var session = handle.DangerousGetHandle();
        Inputs = ReadInfos(session, input: true);
        Outputs = ReadInfos(session, input: false);
        _inputNames = AllocateNames(Inputs);
        _outputNames = AllocateNames(Outputs);
    }

    /// <summary>The file the model came from, or the name given to an in-memory model.</summary>
    public string Source { get; }

    /// <summary>The provider the session actually runs on (after any fallback to CPU).</summary>
    public string ExecutionProvider { get; }

    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    /// <summary>Calls into the native Run so far.</summary>
    public long RunCount => Interlocked.Read(ref _runCount);

    /// <summary>Total time spent inside the native Run, the denominator of the binding-overhead ratio.</summary>
    public TimeSpan TimeInRun => Stopwatch.GetElapsedTime(0, Interlocked.Read(ref _runTicks));

    public static OnnxSession Load(string path, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX model '{path}' does not exist.", path);
        }

        var env = OnnxRuntime.Environment;
        options ??= OnnxSessionOptions.Default;
        using var sessionOptions = OrtSessionOptionsBuilder.Create(options, out var provider);
        var pathBytes = Encoding.UTF8.GetBytes(Path.GetFullPath(path) + "\0");
        nint session;
        fixed (byte* p = pathBytes)
        {
            OrtStatus.Check(OrtApi.CreateSession(env, p, sessionOptions.DangerousGetHandle(), &session), $"loading model '{path}'");
        }

        return Wrap(session, path, provider);
    }

    public static OnnxSession Load(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null, string name = "(in-memory model)")
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException($"ONNX model '{name}' is empty.", nameof(model));
        }

        var env = OnnxRuntime.Environment;
        options ??= OnnxSessionOptions.Default;
        using var sessionOptions = OrtSessionOptionsBuilder.Create(options, out var provider);
        nint session;
        fixed (byte* p = model)
        {
            OrtStatus.Check(
                OrtApi.CreateSessionFromArray(env, p, (nuint)model.Length, sessionOptions.DangerousGetHandle(), &session),
                $"loading model '{name}'");
        }

        return Wrap(session, name, provider);
    }

    public OnnxTensorInfo Input(string name) => Find(Inputs, name, "input");

    public OnnxTensorInfo Output(string name) => Find(Outputs, name, "output");

    public int InputIndex(string name) => IndexOf(Inputs, name, "input");

    public int OutputIndex(string name) => IndexOf(Outputs, name, "output");

    /// <summary>A binding of caller buffers to this session's inputs and outputs, for repeated zero-allocation runs.</summary>
    public OnnxBinding CreateBinding() => new(this);

    public void Dispose()
    {
        if (_handle.IsClosed)
        {
            return;
        }

        _handle.Dispose();
        FreeNames(_inputNames, Inputs.Count);
        FreeNames(_outputNames, Outputs.Count);
    }

    internal nint InputNamePointer(int index) => _inputNames[index];

    internal nint OutputNamePointer(int index) => _outputNames[index];

    /// <summary>The one place every run path calls the native Run, so the time inside it is measured the same way.</summary>
    internal void RunNative(nint* inputNames, nint* inputs, int inputCount, nint* outputNames, nint* outputs, int outputCount)
    {
        ObjectDisposedException.ThrowIf(_handle.IsClosed, this);
        var start = Stopwatch.GetTimestamp();
        var status = OrtApi.Run(_handle.DangerousGetHandle(), 0, inputNames, inputs, (nuint)inputCount, outputNames, (nuint)outputCount, outputs);
        var elapsed = Stopwatch.GetTimestamp() - start;
        Interlocked.Increment(ref _runCount);
        Interlocked.Add(ref _runTicks, elapsed);
        OrtStatus.Check(status);
    }

    private static OnnxSession Wrap(nint session, string source, string provider)
    {
        var handle = new OrtSessionHandle(session);
        try
        {
            return new OnnxSession(handle, source, provider);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    private OnnxTensorInfo Find(IReadOnlyList<OnnxTensorInfo> list, string name, string what) => list[IndexOf(list, name, what)];

    private int IndexOf(IReadOnlyList<OnnxTensorInfo> list, string name, string what)
    {
        for (var i = 0; i < list.Count; i++)
        {
            if (string.Equals(list[i].Name, name, StringComparison.Ordinal))
            {
                return i;
            }
        }

        throw new ArgumentException($"Model '{Source}' has no {what} named '{name}' (it has: {string.Join(", ", list.Select(x => x.Name))}).", nameof(name));
    }

    private static IReadOnlyList<OnnxTensorInfo> ReadInfos(nint session, bool input)
    {
        nuint count;
        OrtStatus.Check(input ? OrtApi.SessionGetInputCount(session, &count) : OrtApi.SessionGetOutputCount(session, &count));
        var allocator = OnnxRuntime.DefaultAllocator;
        var infos = new OnnxTensorInfo[(int)count];
        for (nuint i = 0; i < count; i++)
        {
            nint namePtr;
            OrtStatus.Check(input
                ? OrtApi.SessionGetInputName(session, i, allocator, &namePtr)
                : OrtApi.SessionGetOutputName(session, i, allocator, &namePtr));
            var name = Marshal.PtrToStringUTF8(namePtr) ?? string.Empty;
            OrtStatus.Check(OrtApi.AllocatorFree(allocator, namePtr));

            nint typeInfo;
            OrtStatus.Check(input
                ? OrtApi.SessionGetInputTypeInfo(session, i, &typeInfo)
                : OrtApi.SessionGetOutputTypeInfo(session, i, &typeInfo));
            try
            {
                infos[(int)i] = OrtTypeInfo.Describe(name, typeInfo);
            }
            finally
            {
                OrtApi.ReleaseTypeInfo(typeInfo);
            }
        }

        return infos;
    }

    private static nint* AllocateNames(IReadOnlyList<OnnxTensorInfo> infos)
    {
        var names = (nint*)NativeMemory.AllocZeroed((nuint)Math.Max(1, infos.Count), (nuint)sizeof(nint));
        for (var i = 0; i < infos.Count; i++)
        {
            names[i] = Marshal.StringToCoTaskMemUTF8(infos[i].Name);
        }

        return names;
    }

    private static void FreeNames(nint* names, int count)
    {
        for (var i = 0; i < count; i++)
        {
            Marshal.FreeCoTaskMem(names[i]);
        }

        NativeMemory.Free(names);
    }
}
