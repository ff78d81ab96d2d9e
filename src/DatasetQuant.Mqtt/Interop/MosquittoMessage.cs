using System.Runtime.InteropServices;

namespace DatasetQuant.Mqtt.Interop;

/// <summary><c>struct mosquitto_message</c> as libmosquitto hands it to the message callback.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct MosquittoMessage
{
    public int Mid;
    public nint Topic;
    public nint Payload;
    public int PayloadLength;
    public int Qos;

    [MarshalAs(UnmanagedType.U1)]
    public bool Retain;
}
