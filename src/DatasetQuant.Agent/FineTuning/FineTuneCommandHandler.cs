using DatasetQuant.Agent.Configuration;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// Turns a fine-tune command on this device's command topic into a request. The topic rides on the sync session
/// (<see cref="IDeviceTopicHandler"/>): a second session would cost the device another MQTT client, socket and TLS
/// context, about a third of the agent's idle memory, for a message that comes rarely.
/// </summary>
public sealed partial class FineTuneCommandHandler : IDeviceTopicHandler
{
    private readonly FineTuneRequests _requests;
    private readonly ILogger<FineTuneCommandHandler> _logger;

    public FineTuneCommandHandler(
        FineTuneRequests requests,
        IOptions<DeviceSyncOptions> sync,
        IOptions<FineTuneOptions> fineTune,
        ILogger<FineTuneCommandHandler> logger)
    {
        _requests = requests;
        _logger = logger;
        Topics = fineTune.Value.OnCommand ? [FineTuneCommand.Topic(sync.Value.Fleet, sync.Value.DeviceId)] : [];
    }

    public IReadOnlyList<string> Topics { get; }

    public void Handle(MqttMessage message)
    {
        if (!FineTuneCommand.TryParse(message.Payload.Span, out var error))
        {
            LogIgnored(_logger, message.Topic, error ?? "not a command");
            return;
        }

        var queued = _requests.Request(FineTuneTrigger.Command);
        LogCommand(_logger, queued ? "queued" : "merged into the waiting request");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune command received; {Outcome}")]
    private static partial void LogCommand(ILogger logger, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored message on {Topic}: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string topic, string reason);
}
