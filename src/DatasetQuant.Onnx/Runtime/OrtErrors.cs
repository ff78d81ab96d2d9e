using Ort = Microsoft.ML.OnnxRuntime;

namespace DatasetQuant.Onnx.Runtime;

/// <summary>
/// Turns ONNX Runtime's exception (<c>[ErrorCode:Name] message</c>) into DatasetQuant's <see cref="OnnxRuntimeException"/>,
/// which carries the error code as a value and says what DatasetQuant was doing.
/// </summary>
internal static class OrtErrors
{
    private const string Prefix = "[ErrorCode:";

    public static OnnxRuntimeException Translate(Ort.OnnxRuntimeException ex, string? context)
    {
        var message = ex.Message;
        var code = OrtErrorCode.Fail;
        if (message.StartsWith(Prefix, StringComparison.Ordinal) && message.IndexOf(']', StringComparison.Ordinal) is var end and > 0)
        {
            _ = Enum.TryParse(message.AsSpan(Prefix.Length, end - Prefix.Length), out code);
            message = message[(end + 1)..].TrimStart();
        }

        return new OnnxRuntimeException(code, context is null ? message : $"{context}: {message}", ex);
    }
}
