using System.Globalization;
using Microsoft.Extensions.Logging;
using MQTTnet.Diagnostics.Logger;

namespace DatasetQuant.Mqtt;

/// <summary>
/// MQTTnet's own log lines, at Debug: what matters to an operator (connected, lost, refused and why) the session logs
/// itself, while MQTTnet also reports every expected connection loss as a warning or error.
/// </summary>
internal sealed class MqttNetLogger(ILogger logger) : IMqttNetLogger
{
    public bool IsEnabled => logger.IsEnabled(LogLevel.Debug);

    public void Publish(MqttNetLogLevel logLevel, string source, string message, object[] parameters, Exception exception)
    {
        if (!IsEnabled)
        {
            return;
        }

        var text = parameters is { Length: > 0 } ? string.Format(CultureInfo.InvariantCulture, message, parameters) : message;
        logger.LogDebug(exception, "MQTTnet {Level} {Source}: {Message}", logLevel, source, text);
    }
}
