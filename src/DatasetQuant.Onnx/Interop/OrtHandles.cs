using System.Runtime.InteropServices;

namespace DatasetQuant.Onnx.Interop;

/// <summary>An <c>OrtSession*</c>.</summary>
internal sealed class OrtSessionHandle : SafeHandle
{
    public OrtSessionHandle(nint handle)
        : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSession(handle);
        return true;
    }
}

/// <summary>An <c>OrtSessionOptions*</c>.</summary>
internal sealed class OrtSessionOptionsHandle : SafeHandle
{
    public OrtSessionOptionsHandle(nint handle)
        : base(0, ownsHandle: true) => SetHandle(handle);

    public override bool IsInvalid => handle == 0;

    protected override bool ReleaseHandle()
    {
        OrtApi.ReleaseSessionOptions(handle);
        return true;
    }
}
