namespace DatasetQuant.Onnx;

/// <summary>An ONNX file (model or tensor) is truncated, corrupt or uses something DatasetQuant does not read.</summary>
public sealed class OnnxFormatException : Exception
{
    public OnnxFormatException(string message)
        : base(message)
    {
    }
}
