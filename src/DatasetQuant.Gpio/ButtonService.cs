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
/// Watches the button line on its own thread (libgpiod's wait blocks) and turns its edges into debounced presses.
/// </summary>
public sealed partial class ButtonService(
    GpioConnection gpio,
    GpioButton button,
    IOptions<GpioOptions> options,
    ILogger<ButtonService> logger) : BackgroundService
{
    private static readonly TimeSpan IdleWait = TimeSpan.FromMilliseconds(100);
    private static readonly TimeSpan SettlingWait = TimeSpan.FromMilliseconds(5);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value;
        if (settings.ButtonLine is null)
        {
            return Task.CompletedTask;
        }

        return Task.Factory.StartNew(() => Watch(settings, stoppingToken), stoppingToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void Watch(GpioOptions settings, CancellationToken stoppingToken)
    {
        if (gpio.Driver is not { } driver)
        {
            return;
        }

        IGpioEdgeLine line;
        try
        {
            line = driver.OpenEdgeInput(settings.ButtonLine!.Value);
        }
        catch (GpioException ex)
        {
            LogLineFailed(logger, ex.Message);
            return;
        }

        using (line)
        {
            var clock = Stopwatch.StartNew();
            var debouncer = new ButtonDebouncer(TimeSpan.FromMilliseconds(settings.ButtonDebounceMilliseconds), settings.ButtonActiveLow);
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (line.TryWaitForEdge(debouncer.IsSettling ? SettlingWait : IdleWait, out var edge))
                    {
                        Report(debouncer.OnEdge(edge.Edge, edge.Timestamp, clock.Elapsed), settings.ButtonLine!.Value);
                    }
                }
                catch (GpioException ex)
                {
                    LogLineFailed(logger, ex.Message);
                    return;
                }

                Report(debouncer.Poll(clock.Elapsed), settings.ButtonLine!.Value);
            }
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
