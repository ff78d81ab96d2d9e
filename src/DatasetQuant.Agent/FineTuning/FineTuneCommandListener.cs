using DatasetQuant.Agent.Configuration;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// Listens on this device's command topic and turns a fine-tune command into a request. It has its own MQTT session
/// (client id <c>dq-{fleet}-{device}-cmd</c>, same certificate) so the sync protocol's session stays its own.
/// </summary>
public sealed partial class FineTuneCommandListener(
    IMqttConnectionFactory connections,
    FineTuneRequests requests,
    IOptions<DeviceSyncOptions> sync,
    IOptions<FineTuneOptions> fineTune,
    ILogger<FineTuneCommandListener> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!fineTune.Value.OnCommand)
        {
            return;
        }

        var settings = sync.Value;
        var topic = FineTuneCommand.Topic(settings.Fleet, settings.DeviceId);
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = await connections.ConnectAsync(Options(settings), stoppingToken);
                await connection.SubscribeAsync(topic, MqttQos.AtLeastOnce, stoppingToken);
                LogListening(logger, topic);
                backoff = TimeSpan.FromSeconds(1);
                await foreach (var message in connection.Messages.ReadAllAsync(stoppingToken))
                {
                    Handle(message);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is MqttException or IOException or TimeoutException or ArgumentException)
            {
                LogSessionFailed(logger, ex.Message, backoff.TotalSeconds);
            }

            try
            {
                await Task.Delay(backoff, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private void Handle(MqttMessage message)
    {
        if (!FineTuneCommand.TryParse(message.Payload.Span, out var error))
        {
            LogIgnored(logger, message.Topic, error ?? "not a command");
            return;
        }

        var queued = requests.Request(FineTuneTrigger.Command);
        LogCommand(logger, queued ? "queued" : "merged into the waiting request");
    }

    private static MqttConnectionOptions Options(DeviceSyncOptions settings) => new()
    {
        BrokerUri = settings.BrokerUrl,
        ClientId = $"dq-{settings.Fleet}-{settings.DeviceId}-cmd",
        CleanStart = true,
        TlsCaFile = string.IsNullOrEmpty(settings.CaFile) ? null : settings.CaFile,
        TlsCertificateFile = string.IsNullOrEmpty(settings.CertFile) ? null : settings.CertFile,
        TlsKeyFile = string.IsNullOrEmpty(settings.KeyFile) ? null : settings.KeyFile,
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Listening for commands on {Topic}")]
    private static partial void LogListening(ILogger logger, string topic);

    [LoggerMessage(Level = LogLevel.Information, Message = "Fine-tune command received; {Outcome}")]
    private static partial void LogCommand(ILogger logger, string outcome);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Ignored message on {Topic}: {Reason}")]
    private static partial void LogIgnored(ILogger logger, string topic, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Command session failed ({Error}); retrying in {Seconds} s")]
    private static partial void LogSessionFailed(ILogger logger, string error, double seconds);
}
