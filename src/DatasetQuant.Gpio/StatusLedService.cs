using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>Blinks the status LED in the pattern of the current <see cref="DeviceStatus"/>; switches it off on stop.</summary>
public sealed partial class StatusLedService(
    GpioConnection gpio,
    DeviceStatusBoard status,
    IOptions<GpioOptions> options,
    ILogger<StatusLedService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.StatusLedLine is not int offset || gpio.Driver is not { } driver)
        {
            return;
        }

        // Yield first: the host must not wait on the chip being opened or the line requested.
        await Task.Yield();
        IGpioOutputLine led;
        try
        {
            led = driver.OpenOutput(offset, settings.StatusLedActiveLow);
        }
        catch (GpioException ex)
        {
            LogLineFailed(logger, ex.Message);
            return;
        }

        using (led)
        {
            var changed = new SemaphoreSlim(0);
            void OnChanged(object? sender, DeviceStatus s) => changed.Release();
            status.Changed += OnChanged;
            try
            {
                await BlinkAsync(led, settings.StatusLedActiveLow, changed, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
            finally
            {
                status.Changed -= OnChanged;
                led.Write(settings.StatusLedActiveLow);
            }
        }
    }

    private async Task BlinkAsync(IGpioOutputLine led, bool activeLow, SemaphoreSlim changed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var pattern = LedPattern.For(status.Status);
            var interrupted = false;
            foreach (var (on, duration) in pattern.Steps)
            {
                led.Write(on != activeLow);

                // A status change cuts the current step short so the new pattern shows at once.
                if (await changed.WaitAsync(duration, stoppingToken))
                {
                    interrupted = true;
                    break;
                }
            }

            while (interrupted && changed.CurrentCount > 0)
            {
                await changed.WaitAsync(stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Status LED unavailable: {Reason}")]
    private static partial void LogLineFailed(ILogger logger, string reason);
}
