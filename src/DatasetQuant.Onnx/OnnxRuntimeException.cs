namespace DatasetQuant.Onnx;

/// <summary>ONNX Runtime reported an error (its message is kept verbatim), or DatasetQuant refused a call before it.</summary>
public sealed class OnnxRuntimeException : Exception
{
    public OnnxRuntimeException(string message)
        : base(message)
    {
        ErrorCode = OrtErrorCode.Fail;
    }

    public OnnxRuntimeException(OrtErrorCode code, string message)
        : base($"ONNX Runtime {code}: {message}")
    {
        ErrorCode = code;
    }

    public OnnxRuntimeException(OrtErrorCode code, string message, Exception inner)
        : base($"ONNX Runtime {code}: {message}", inner)
    {
        ErrorCode = code;
    }

    public OnnxRuntimeException(string message, Exception inner)
        : base(message, inner)
    {
        ErrorCode = OrtErrorCode.Fail;
    }

    public OrtErrorCode ErrorCode { get; }
}
