using System.Device.Gpio;
using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>Raised once per debounced press of the device's button.</summary>
public sealed class GpioButton
{
    public event EventHandler? Pressed;

    /// <summary>How many debounced presses were seen since start.</summary>
    public int PressCount => Volatile.Read(ref _pressCount);

    private int _pressCount;

    internal void RaisePressed()
    {
        Interlocked.Increment(ref _pressCount);
        Pressed?.Invoke(this, EventArgs.Empty);
    }
}

/// <summary>
/// Samples the button line and turns its level changes into debounced presses.
/// </summary>
/// <remarks>
/// Sampled rather than woken by edge events: System.Device.Gpio 4.2.0's libgpiod v2 edge path (LineRequest's epoll
/// wait, through <c>UnmanagedArray&lt;T&gt;</c>) fails the trim analysis NativeAOT runs (IL2091), and dq-agent publishes
/// with none. The package's own edge paths poll too (v1 every 50 ms, v2 every 100 ms); sampling at a third of the
/// debounce interval sees every press that holds long enough to count.
/// </remarks>
public sealed partial class ButtonService(
    GpioConnection gpio,
    GpioButton button,
    IOptions<GpioOptions> options,
    ILogger<ButtonService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.ButtonLine is not int line)
        {
            return;
        }

        // Yield first: the host must not wait on the chip being opened or the line requested.
        await Task.Yield();
        if (gpio.Controller is not { } controller)
        {
            return;
        }

        try
        {
            var mode = settings.ButtonActiveLow ? PinMode.InputPullUp : PinMode.InputPullDown;
            GpioConnection.OpenLine(controller, line, controller.IsPinModeSupported(line, mode) ? mode : PinMode.Input);
        }
        catch (GpioException ex)
        {
            LogLineFailed(logger, ex.Message);
            return;
        }

        var debounce = TimeSpan.FromMilliseconds(settings.ButtonDebounceMilliseconds);
        try
        {
            await WatchAsync(controller, line, new ButtonDebouncer(debounce, settings.ButtonActiveLow), SamplePeriod(debounce), stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (IOException ex)
        {
            LogLineFailed(logger, $"reading GPIO line {line} failed: {ex.Message}");
        }
        finally
        {
            controller.ClosePin(line);
        }
    }

    /// <summary>A third of the debounce interval, kept within 5..25 ms.</summary>
    internal static TimeSpan SamplePeriod(TimeSpan debounce) =>
        TimeSpan.FromMilliseconds(Math.Clamp(debounce.TotalMilliseconds / 3, 5, 25));

    private async Task WatchAsync(GpioController controller, int line, ButtonDebouncer debouncer, TimeSpan period, CancellationToken stoppingToken)
    {
        var clock = Stopwatch.StartNew();
        var level = controller.Read(line);
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var now = clock.Elapsed;
            var read = controller.Read(line);
            if (read != level)
            {
                level = read;
                Report(debouncer.OnEdge(read == PinValue.High ? PinEventTypes.Rising : PinEventTypes.Falling, now, now), line);
            }

            Report(debouncer.Poll(now), line);
        }
    }

    private void Report(ButtonChange change, int offset)
    {
        if (change != ButtonChange.Pressed)
        {
            return;
        }

        LogPressed(logger, offset);
        try
        {
            button.RaisePressed();
        }
        catch (Exception ex)
        {
            // A failing subscriber must not stop the button from working.
            LogHandlerFailed(logger, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Button unavailable: {Reason}")]
    private static partial void LogLineFailed(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Button on line {Line} pressed")]
    private static partial void LogPressed(ILogger logger, int line);

    [LoggerMessage(Level = LogLevel.Error, Message = "A button handler failed")]
    private static partial void LogHandlerFailed(ILogger logger, Exception exception);
}
