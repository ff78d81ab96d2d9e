using System.Runtime.InteropServices;

namespace DatasetQuant.Mqtt.Interop;

/// <summary>Turns libmosquitto error numbers and MQTT 5 reason codes into text for exception messages and logs.</summary>
internal static unsafe class MosquittoErrors
{
    /// <summary>A <c>mosq_err_t</c> value, with the OS error when the library reports one through errno.</summary>
    public static string Describe(int rc, int errno = 0)
    {
        if (rc == MosquittoConstants.MOSQ_ERR_ERRNO && errno != 0)
        {
            return Marshal.GetPInvokeErrorMessage(errno);
        }

        var text = Marshal.PtrToStringUTF8((nint)LibMosquitto.mosquitto_strerror(rc));
        return $"{text} (libmosquitto error {rc})";
    }

    /// <summary>An MQTT 5 reason code from CONNACK, PUBACK, SUBACK or DISCONNECT.</summary>
    public static string DescribeReason(int reasonCode)
    {
        var text = Marshal.PtrToStringUTF8((nint)LibMosquitto.mosquitto_reason_string(reasonCode));
        return $"{text} (reason code 0x{reasonCode:X2})";
    }

    /// <summary>The disconnect callback reports libmosquitto errors below 0x80 and broker reason codes above.</summary>
    public static string DescribeDisconnect(int rc) =>
        rc >= MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD ? DescribeReason(rc) : Describe(rc);
}
