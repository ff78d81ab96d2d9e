using DatasetQuant.Onnx.Runtime;
using Microsoft.ML.OnnxRuntime;
using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx;

/// <summary>
/// A loaded ONNX model on ONNX Runtime's <see cref="InferenceSession"/>: its inputs and outputs, and the ways to run
/// it. <see cref="Run(ReadOnlySpan{float}, ReadOnlySpan{long}, Span{float}, ReadOnlySpan{long})"/> and
/// <see cref="CreateBinding"/> run on caller memory and allocate nothing managed per call after the first; the
/// <see cref="OnnxValue"/> overloads allocate and suit tests and tools. Runs may come from several threads at once.
/// </summary>
public sealed partial class OnnxSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly OnnxSessionOptions _options;
    private readonly Lazy<OptionalOutputProbe>? _optionalProbe;
    private bool _disposed;

    private OnnxSession(InferenceSession session, string source, string provider, OnnxSessionOptions options, Func<byte[]> modelBytes)
    {
        _session = session;
        _options = options;
        Source = source;
        ExecutionProvider = provider;
        Inputs = MetadataReader.Describe(session.InputNames, session.InputMetadata);
        Outputs = MetadataReader.Describe(session.OutputNames, session.OutputMetadata);
        var optionalOutputs = Outputs.Where(o => o.Kind == OnnxValueKind.Optional).Select(o => o.Name).ToArray();
        if (optionalOutputs.Length > 0)
        {
            _optionalProbe = new Lazy<OptionalOutputProbe>(() => new OptionalOutputProbe(modelBytes(), optionalOutputs, _options));
        }
    }

    /// <summary>The file the model came from, or the name given to an in-memory model.</summary>
    public string Source { get; }

    /// <summary>The provider the session actually runs on (after any fallback to CPU).</summary>
    public string ExecutionProvider { get; }

    public IReadOnlyList<OnnxTensorInfo> Inputs { get; }

    public IReadOnlyList<OnnxTensorInfo> Outputs { get; }

    public static OnnxSession Load(string path, OnnxSessionOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"ONNX model '{path}' does not exist.", path);
        }

        var fullPath = Path.GetFullPath(path);
        return Create(options, path, o => new InferenceSession(fullPath, o), () => File.ReadAllBytes(fullPath));
    }

    public static OnnxSession Load(ReadOnlySpan<byte> model, OnnxSessionOptions? options = null, string name = "(in-memory model)")
    {
        if (model.IsEmpty)
        {
            throw new ArgumentException($"ONNX model '{name}' is empty.", nameof(model));
        }

        var bytes = model.ToArray();
        return Create(options, name, o => new InferenceSession(bytes, o), () => bytes);
    }

    public OnnxTensorInfo Input(string name) => Inputs[InputIndex(name)];

    public OnnxTensorInfo Output(string name) => Outputs[OutputIndex(name)];

    public int InputIndex(string name) => IndexOf(Inputs, name, "input");

    public int OutputIndex(string name) => IndexOf(Outputs, name, "output");

    /// <summary>A binding of caller buffers to this session's inputs and outputs, for repeated zero-allocation runs.</summary>
    public OnnxBinding CreateBinding()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return new OnnxBinding(this, _session.CreateIoBinding());
    }

    /// <summary>
    /// Ends profiling (see <see cref="OnnxSessionOptions.ProfilePrefix"/>) and returns the file ONNX Runtime wrote.
    /// </summary>
    public string EndProfiling()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _session.EndProfiling();
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Interlocked.Exchange(ref _spanRunner, null)?.Dispose();
        _session.Dispose();
        _runOptions.Dispose();
        if (_optionalProbe is { IsValueCreated: true })
        {
            _optionalProbe.Value.Dispose();
        }
    }

    /// <summary>Runs on a binding whose values are already bound; the one place bound runs enter ONNX Runtime.</summary>
    internal void RunWithBinding(OrtIoBinding binding)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        try
        {
            _session.RunWithBinding(_runOptions, binding);
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"running '{Source}'");
        }
    }

    private static OnnxSession Create(OnnxSessionOptions? options, string source, Func<SessionOptions, InferenceSession> open, Func<byte[]> modelBytes)
    {
        options ??= OnnxSessionOptions.Default;
        using var sessionOptions = SessionOptionsFactory.Create(options, out var provider);
        InferenceSession session;
        try
        {
            session = open(sessionOptions);
        }
        catch (Ort.OnnxRuntimeException ex)
        {
            throw OrtErrors.Translate(ex, $"loading model '{source}'");
        }

        try
        {
            return new OnnxSession(session, source, provider, options, modelBytes);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

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
}
