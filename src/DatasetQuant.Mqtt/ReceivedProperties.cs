using System.Runtime.InteropServices;
using DatasetQuant.Mqtt.Interop;

namespace DatasetQuant.Mqtt;

/// <summary>
/// The MQTT 5 properties of a received PUBLISH, read on the network thread. The content type of the previous message
/// is kept, so a stream of messages with one content type (chunk frames) does not make a string each.
/// </summary>
internal sealed unsafe class ReceivedProperties
{
    private string? _lastContentType;

    public string? ContentType { get; private set; }

    public uint? MessageExpirySeconds { get; private set; }

    public List<KeyValuePair<string, string>>? UserProperties { get; private set; }

    public void Read(nint properties)
    {
        ContentType = null;
        MessageExpirySeconds = null;
        UserProperties = null;
        if (properties == 0)
        {
            return;
        }

        string? contentType = null;
        uint? expiry = null;
        List<KeyValuePair<string, string>>? userProperties = null;
        for (var property = properties; property != 0; property = LibMosquitto.mosquitto_property_next(property))
        {
            var identifier = LibMosquitto.mosquitto_property_identifier(property);
            switch (identifier)
            {
                case MosquittoConstants.MQTT_PROP_CONTENT_TYPE:
                    byte* value = null;
                    LibMosquitto.mosquitto_property_read_string(property, identifier, &value, skipFirst: false);
                    contentType = TakeContentType(value);
                    break;
                case MosquittoConstants.MQTT_PROP_MESSAGE_EXPIRY_INTERVAL:
                    uint seconds = 0;
                    if (LibMosquitto.mosquitto_property_read_int32(property, identifier, &seconds, skipFirst: false) != 0)
                    {
                        expiry = seconds;
                    }

                    break;
                case MosquittoConstants.MQTT_PROP_USER_PROPERTY:
                    byte* name = null;
                    byte* text = null;
                    LibMosquitto.mosquitto_property_read_string_pair(property, identifier, &name, &text, skipFirst: false);
                    (userProperties ??= []).Add(new(Take(name) ?? string.Empty, Take(text) ?? string.Empty));
                    break;
            }
        }

        ContentType = contentType;
        MessageExpirySeconds = expiry;
        UserProperties = userProperties;
    }

    private string? TakeContentType(byte* value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            var utf8 = MemoryMarshal.CreateReadOnlySpanFromNullTerminated(value);
            if (_lastContentType is null || !Utf8Equals(utf8, _lastContentType))
            {
                _lastContentType = System.Text.Encoding.UTF8.GetString(utf8);
            }

            return _lastContentType;
        }
        finally
        {
            NativeMemory.Free(value);
        }
    }

    /// <summary>Whether <paramref name="utf8"/> encodes <paramref name="text"/> (ASCII compared without decoding).</summary>
    internal static bool Utf8Equals(ReadOnlySpan<byte> utf8, string text)
    {
        if (utf8.Length == text.Length && System.Text.Ascii.Equals(utf8, text))
        {
            return true;
        }

        return !System.Text.Ascii.IsValid(utf8) && System.Text.Encoding.UTF8.GetString(utf8) == text;
    }

    /// <summary>A string libmosquitto allocated for the caller, converted and freed.</summary>
    private static string? Take(byte* value)
    {
        if (value is null)
        {
            return null;
        }

        try
        {
            return Marshal.PtrToStringUTF8((nint)value);
        }
        finally
        {
            NativeMemory.Free(value);
        }
    }
}
