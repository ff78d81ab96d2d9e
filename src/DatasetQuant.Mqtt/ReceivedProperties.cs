using System.Runtime.InteropServices;
using DatasetQuant.Mqtt.Interop;

namespace DatasetQuant.Mqtt;

/// <summary>Copies the MQTT 5 properties of a received PUBLISH into the managed message.</summary>
internal static unsafe class ReceivedProperties
{
    public static MqttMessage Read(MqttMessage message, nint properties)
    {
        if (properties == 0)
        {
            return message;
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
                    contentType = Take(value);
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

        return message with
        {
            ContentType = contentType,
            MessageExpirySeconds = expiry,
            UserProperties = (IReadOnlyList<KeyValuePair<string, string>>?)userProperties ?? [],
        };
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
