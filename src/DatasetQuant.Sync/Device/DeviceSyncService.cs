using DatasetQuant.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Runs <see cref="DeviceSyncEngine"/> for the life of the host: connects with the offline state as last will, runs
/// the engine until the session ends, and connects again with backoff (1 s doubling to 30 s). On stop it publishes the
/// offline state itself, since a clean disconnect sends no will.
/// </summary>
public sealed class DeviceSyncService(
    IOptions<DeviceSyncOptions> options,
    IMqttConnectionFactory connectionFactory,
    DeviceSyncEngineFactory engineFactory,
    ILogger<DeviceSyncService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        using var engine = engineFactory.Create();
        var will = DeviceSyncEngine.CreateWill(settings);
        var backoff = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            IMqttConnection? connection = null;
            try
            {
                connection = await connectionFactory.ConnectAsync(settings.ToConnectionOptions(will), stoppingToken).ConfigureAwait(false);
                logger.LogInformation("Device {Device} connected to {Broker} (fleet {Fleet})", settings.DeviceId, settings.BrokerUrl, settings.Fleet);
                backoff = TimeSpan.FromSeconds(1);
                await engine.RunAsync(connection, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is MqttException or IOException or TimeoutException or ArgumentException)
            {
                logger.LogWarning("Device {Device}: MQTT session failed ({Error}); retrying in {Delay} s", settings.DeviceId, ex.Message, backoff.TotalSeconds);
            }
            finally
            {
                if (connection is not null)
                {
                    if (stoppingToken.IsCancellationRequested && connection.IsConnected)
                    {
                        await TryPublishOfflineAsync(engine, connection).ConfigureAwait(false);
                    }

                    await connection.DisposeAsync().ConfigureAwait(false);
                }
            }

            try
            {
                await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private async Task TryPublishOfflineAsync(DeviceSyncEngine engine, IMqttConnection connection)
    {
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await engine.PublishOfflineAsync(connection, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttException or OperationCanceledException)
        {
            logger.LogDebug("Offline state not published on stop: {Error}", ex.Message);
        }
    }
}

/// <summary>Creates the engine from the validated options (the pinned key is loaded here, so a bad key fails the start).</summary>
public sealed class DeviceSyncEngineFactory(
    IOptions<DeviceSyncOptions> options,
    DeviceSyncEvents events,
    IEnumerable<IDeviceStateContributor> contributors,
    ILoggerFactory loggerFactory,
    IShardRequantizer? requantizer = null,
    IEnumerable<IDeviceTopicHandler>? topicHandlers = null)
{
    public DeviceSyncEngine Create()
    {
        var settings = options.Value;
        var verifier = Security.ManifestVerifier.FromPemFile(settings.CoordinatorKeyPath);
        return new DeviceSyncEngine(settings, verifier, requantizer, events, contributors, loggerFactory.CreateLogger<DeviceSyncEngine>(), topicHandlers: topicHandlers);
    }
}
