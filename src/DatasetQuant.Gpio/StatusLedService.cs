using System.Device.Gpio;
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
        if (settings.StatusLedLine is not int line)
        {
            return;
        }

        // Yield first: the host must not wait on the chip being opened or the line requested.
        await Task.Yield();
        if (gpio.Controller is not { } controller)
        {
            return;
        }

        var off = Level(on: false, settings.StatusLedActiveLow);
        try
        {
            GpioConnection.OpenLine(controller, line, PinMode.Output, off);
        }
        catch (GpioException ex)
        {
            LogLineFailed(logger, ex.Message);
            return;
        }

        var led = new Led(controller, line, settings.StatusLedActiveLow);
        var changed = new SemaphoreSlim(0);
        void OnChanged(object? sender, DeviceStatus s) => changed.Release();
        status.Changed += OnChanged;
        try
        {
            await BlinkAsync(led, changed, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            status.Changed -= OnChanged;
            led.Write(on: false);
            controller.ClosePin(line);
        }
    }

    private static PinValue Level(bool on, bool activeLow) => on != activeLow ? PinValue.High : PinValue.Low;

    private async Task BlinkAsync(Led led, SemaphoreSlim changed, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var pattern = LedPattern.For(status.Status);
            var interrupted = false;
            foreach (var (on, duration) in pattern.Steps)
            {
                led.Write(on);

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

    /// <summary>The LED's line, written as lit or dark whatever its wiring.</summary>
    private readonly record struct Led(GpioController Controller, int Line, bool ActiveLow)
    {
        public void Write(bool on) => Controller.Write(Line, Level(on, ActiveLow));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Status LED unavailable: {Reason}")]
    private static partial void LogLineFailed(ILogger logger, string reason);
}
