namespace DatasetQuant.Coordinator.Commands;

/// <summary>Checks a broker URL the way the MQTT client will read it, so a typo fails at the command line.</summary>
internal static class BrokerUrl
{
    public static string? Problem(string? url)
    {
        try
        {
            DatasetQuant.Mqtt.MqttBrokerAddress.Parse(url);
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}
