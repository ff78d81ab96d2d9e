using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace DatasetQuant.Onnx.Interop;

/// <summary>Turns an <c>OrtStatus*</c> into an exception carrying ONNX Runtime's own message, and frees it.</summary>
internal static class OrtStatus
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Check(nint status)
    {
        if (status != 0)
        {
            Throw(status, null);
        }
    }

    public static void Check(nint status, string context)
    {
        if (status != 0)
        {
            Throw(status, context);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void Throw(nint status, string? context)
    {
        var code = (OrtErrorCode)(int)OrtApi.GetErrorCode(status);
        var message = Marshal.PtrToStringUTF8(OrtApi.GetErrorMessage(status)) ?? "(no message)";
        OrtApi.ReleaseStatus(status);
        throw new OnnxRuntimeException(code, context is null ? message : $"{context}: {message}");
    }
}
