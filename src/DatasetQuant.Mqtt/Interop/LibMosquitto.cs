using System.Runtime.InteropServices;
using DatasetQuant.Native;

namespace DatasetQuant.Mqtt.Interop;

/// <summary>
/// Raw declarations of the libmosquitto 2.0 client API (include/mosquitto.h) that the client uses. Names, argument
/// order and types follow the header; <c>struct mosquitto*</c> travels as <see cref="MosquittoHandle"/> or
/// <c>nint</c>, <c>mosquitto_property*</c> as <c>nint</c>.
/// </summary>
internal static unsafe partial class LibMosquitto
{
    private const string Library = "mosquitto";

    // Runs before the first call into the library, so every import below resolves through the shared resolver.
    static LibMosquitto()
    {
        NativeLibraryResolver.Register(typeof(LibMosquitto).Assembly, KnownNativeLibraries.Mosquitto);
    }

    [LibraryImport(Library)]
    internal static partial int mosquitto_lib_init();

    [LibraryImport(Library)]
    internal static partial int mosquitto_lib_version(out int major, out int minor, out int revision);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial nint mosquitto_new(string? id, [MarshalAs(UnmanagedType.U1)] bool cleanSession, nint obj);

    [LibraryImport(Library)]
    internal static partial void mosquitto_destroy(nint mosq);

    [LibraryImport(Library)]
    internal static partial int mosquitto_int_option(MosquittoHandle mosq, int option, int value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_will_set_v5(
        MosquittoHandle mosq, string topic, int payloadlen, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain, nint properties);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_username_pw_set(MosquittoHandle mosq, string? username, string? password);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_tls_set(
        MosquittoHandle mosq, string? cafile, string? capath, string? certfile, string? keyfile, nint pwCallback);

    [LibraryImport(Library)]
    internal static partial int mosquitto_reconnect_delay_set(
        MosquittoHandle mosq, uint reconnectDelay, uint reconnectDelayMax, [MarshalAs(UnmanagedType.U1)] bool exponentialBackoff);

    [LibraryImport(Library)]
    internal static partial int mosquitto_max_inflight_messages_set(MosquittoHandle mosq, uint maxInflightMessages);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    internal static partial int mosquitto_connect_bind_v5(
        MosquittoHandle mosq, string host, int port, int keepalive, string? bindAddress, nint properties);

    [LibraryImport(Library)]
    internal static partial int mosquitto_disconnect_v5(MosquittoHandle mosq, int reasonCode, nint properties);

    [LibraryImport(Library)]
    internal static partial int mosquitto_loop_start(MosquittoHandle mosq);

    [LibraryImport(Library)]
    internal static partial int mosquitto_loop_stop(MosquittoHandle mosq, [MarshalAs(UnmanagedType.U1)] bool force);

    [LibraryImport(Library)]
    internal static partial int mosquitto_socket(MosquittoHandle mosq);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_publish_v5(
        MosquittoHandle mosq, int* mid, string topic, int payloadlen, byte* payload, int qos, [MarshalAs(UnmanagedType.U1)] bool retain, nint properties);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_subscribe_v5(MosquittoHandle mosq, int* mid, string sub, int qos, int options, nint properties);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_unsubscribe_v5(MosquittoHandle mosq, int* mid, string sub, nint properties);

    [LibraryImport(Library)]
    internal static partial void mosquitto_connect_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, nint, void> onConnect);

    [LibraryImport(Library)]
    internal static partial void mosquitto_disconnect_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, nint, void> onDisconnect);

    [LibraryImport(Library)]
    internal static partial void mosquitto_publish_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, nint, void> onPublish);

    [LibraryImport(Library)]
    internal static partial void mosquitto_message_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, MosquittoMessage*, nint, void> onMessage);

    [LibraryImport(Library)]
    internal static partial void mosquitto_subscribe_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, int, int*, nint, void> onSubscribe);

    [LibraryImport(Library)]
    internal static partial void mosquitto_unsubscribe_v5_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, nint, void> onUnsubscribe);

    [LibraryImport(Library)]
    internal static partial void mosquitto_log_callback_set(
        MosquittoHandle mosq, delegate* unmanaged<nint, nint, int, byte*, void> onLog);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_property_add_string(ref nint proplist, int identifier, string value);

    [LibraryImport(Library, StringMarshalling = StringMarshalling.Utf8)]
    internal static partial int mosquitto_property_add_string_pair(ref nint proplist, int identifier, string name, string value);

    [LibraryImport(Library)]
    internal static partial int mosquitto_property_add_int32(ref nint proplist, int identifier, uint value);

    [LibraryImport(Library)]
    internal static partial void mosquitto_property_free_all(ref nint properties);

    [LibraryImport(Library)]
    internal static partial nint mosquitto_property_next(nint proplist);

    [LibraryImport(Library)]
    internal static partial int mosquitto_property_identifier(nint property);

    [LibraryImport(Library)]
    internal static partial nint mosquitto_property_read_string(
        nint proplist, int identifier, byte** value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Library)]
    internal static partial nint mosquitto_property_read_string_pair(
        nint proplist, int identifier, byte** name, byte** value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Library)]
    internal static partial nint mosquitto_property_read_int32(
        nint proplist, int identifier, uint* value, [MarshalAs(UnmanagedType.U1)] bool skipFirst);

    [LibraryImport(Library)]
    internal static partial byte* mosquitto_strerror(int mosqErrno);

    [LibraryImport(Library)]
    internal static partial byte* mosquitto_reason_string(int reasonCode);
}
