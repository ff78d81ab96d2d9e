namespace DatasetQuant.Mqtt.Interop;

/// <summary>
/// An outgoing MQTT 5 property list built with <c>mosquitto_property_add_*</c>. libmosquitto copies the list into
/// the packet, so the owner frees it with <see cref="Dispose"/> as soon as the call that used it returns.
/// </summary>
internal struct MosquittoPropertyList : IDisposable
{
    private nint _list;

    public readonly nint Pointer => _list;

    public void AddString(int identifier, string value, string what) =>
        Check(LibMosquitto.mosquitto_property_add_string(ref _list, identifier, value), what);

    public void AddStringPair(int identifier, string name, string value, string what) =>
        Check(LibMosquitto.mosquitto_property_add_string_pair(ref _list, identifier, name, value), what);

    public void AddInt32(int identifier, uint value, string what) =>
        Check(LibMosquitto.mosquitto_property_add_int32(ref _list, identifier, value), what);

    /// <summary>Ownership of the list moved to libmosquitto (for example a will that was accepted).</summary>
    public void Forget() => _list = 0;

    public void Dispose()
    {
        if (_list != 0)
        {
            LibMosquitto.mosquitto_property_free_all(ref _list);
        }
    }

    private static void Check(int rc, string what)
    {
        if (rc != MosquittoConstants.MOSQ_ERR_SUCCESS)
        {
            throw new MqttException($"Cannot add MQTT property {what}: {MosquittoErrors.Describe(rc)}");
        }
    }
}
