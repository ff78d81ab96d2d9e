using DatasetQuant.Mqtt.Interop;

namespace DatasetQuant.Mqtt;

/// <summary>libmosquitto's process-wide set-up, done once before the first client (mosquitto_lib_init is not thread safe).</summary>
public static class MosquittoLibrary
{
    private static readonly Lazy<(int Major, int Minor, int Revision)> Version = new(Initialize, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The version of the libmosquitto that was loaded, for example 2.0.11.</summary>
    public static string LoadedVersion
    {
        get
        {
            var (major, minor, revision) = Version.Value;
            return $"{major}.{minor}.{revision}";
        }
    }

    internal static void EnsureInitialized() => _ = Version.Value;

    private static (int, int, int) Initialize()
    {
        LibMosquitto.mosquitto_lib_version(out var major, out var minor, out var revision);
        if (major < 2)
        {
            throw new MqttException($"libmosquitto {major}.{minor}.{revision} is too old: MQTT 5 with this client needs 2.0 or later.");
        }

        var rc = LibMosquitto.mosquitto_lib_init();
        if (rc != MosquittoConstants.MOSQ_ERR_SUCCESS)
        {
            throw new MqttException($"mosquitto_lib_init failed: {MosquittoErrors.Describe(rc)}");
        }

        return (major, minor, revision);
    }
}
