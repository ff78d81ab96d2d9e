namespace DatasetQuant.Mqtt.Interop;

/// <summary>Values from mosquitto.h and mqtt_protocol.h that the client passes or checks.</summary>
internal static class MosquittoConstants
{
    // enum mosq_err_t
    public const int MOSQ_ERR_SUCCESS = 0;
    public const int MOSQ_ERR_NO_CONN = 4;
    public const int MOSQ_ERR_CONN_LOST = 7;
    public const int MOSQ_ERR_ERRNO = 14;

    // enum mosq_opt_t
    public const int MOSQ_OPT_PROTOCOL_VERSION = 1;
    public const int MOSQ_OPT_TCP_NODELAY = 11;

    public const int MQTT_PROTOCOL_V5 = 5;

    // MQTT 5 property identifiers (enum mqtt5_property)
    public const int MQTT_PROP_MESSAGE_EXPIRY_INTERVAL = 2;
    public const int MQTT_PROP_CONTENT_TYPE = 3;
    public const int MQTT_PROP_SESSION_EXPIRY_INTERVAL = 17;
    public const int MQTT_PROP_USER_PROPERTY = 38;

    // Subscription options (enum mqtt5_sub_options): retained messages only for a subscription that is new.
    public const int MQTT_SUB_OPT_SEND_RETAIN_NEW = 0x10;

    // MQTT 5 reason codes: anything at or above 0x80 is a failure.
    public const int MQTT_RC_NORMAL_DISCONNECTION = 0;
    public const int MQTT_RC_FAILURE_THRESHOLD = 0x80;

    // CONNACK acknowledge flags.
    public const int CONNACK_SESSION_PRESENT = 0x01;

    // struct mosquitto log levels
    public const int MOSQ_LOG_ERR = 1 << 3;
    public const int MOSQ_LOG_WARNING = 1 << 2;
}
