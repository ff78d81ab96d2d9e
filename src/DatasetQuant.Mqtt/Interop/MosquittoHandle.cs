using System.Runtime.InteropServices;

namespace DatasetQuant.Mqtt.Interop;

/// <summary>Owns one <c>struct mosquitto*</c>; releasing it calls <c>mosquitto_destroy</c>.</summary>
internal sealed class MosquittoHandle : SafeHandle
{
    public MosquittoHandle()
        : base(0, ownsHandle: true)
    {
    }

    public override bool IsInvalid => handle == 0;

    internal static MosquittoHandle Create(string? clientId, bool cleanStart, nint userData)
    {
        var raw = LibMosquitto.mosquitto_new(clientId, cleanStart, userData);
        if (raw == 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new MqttException($"mosquitto_new failed for client id '{clientId}': {Marshal.GetPInvokeErrorMessage(errno)}");
        }

        var result = new MosquittoHandle();
        result.SetHandle(raw);
        return result;
    }

    protected override bool ReleaseHandle()
    {
        LibMosquitto.mosquitto_destroy(handle);
        return true;
    }
}
