using System.Device.Gpio;
using System.Diagnostics;
using System.Threading.Channels;
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
/// Watches the button line through the controller's edge callbacks and turns its edges into debounced presses. The
/// callback only stamps and queues an edge; debouncing runs here, so a slow subscriber cannot hold up the driver's
/// event thread.
/// </summary>
public sealed partial class ButtonService(
    GpioConnection gpio,
    GpioButton button,
    IOptions<GpioOptions> options,
    ILogger<ButtonService> logger) : BackgroundService
{
    private static readonly TimeSpan SettlingWait = TimeSpan.FromMilliseconds(5);

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

        var clock = Stopwatch.StartNew();
        var edges = Channel.CreateBounded<(PinEventTypes Edge, TimeSpan At)>(
            new BoundedChannelOptions(64) { SingleReader = true, FullMode = BoundedChannelFullMode.DropOldest });
        void OnEdge(object sender, PinValueChangedEventArgs e) => edges.Writer.TryWrite((e.ChangeType, clock.Elapsed));
        try
        {
            var mode = settings.ButtonActiveLow ? PinMode.InputPullUp : PinMode.InputPullDown;
            GpioConnection.OpenLine(controller, line, controller.IsPinModeSupported(line, mode) ? mode : PinMode.Input);
            controller.RegisterCallbackForPinValueChangedEvent(line, PinEventTypes.Rising | PinEventTypes.Falling, OnEdge);
        }
        catch (Exception ex) when (ex is GpioException or IOException or InvalidOperationException)
        {
            LogLineFailed(logger, ex.Message);
            return;
        }

        try
        {
            await WatchAsync(edges.Reader, clock, new ButtonDebouncer(TimeSpan.FromMilliseconds(settings.ButtonDebounceMilliseconds), settings.ButtonActiveLow), line, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            controller.UnregisterCallbackForPinValueChangedEvent(line, OnEdge);
            controller.ClosePin(line);
        }
    }

    private async Task WatchAsync(
        ChannelReader<(PinEventTypes Edge, TimeSpan At)> edges, Stopwatch clock, ButtonDebouncer debouncer, int line, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            // Idle: sleep until an edge. Settling: wake after a short wait to see whether the level held.
            if (debouncer.IsSettling)
            {
                using var settle = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
                settle.CancelAfter(SettlingWait);
                try
                {
                    await edges.WaitToReadAsync(settle.Token);
                }
                catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
                {
                }
            }
            else
            {
                await edges.WaitToReadAsync(stoppingToken);
            }

            while (edges.TryRead(out var edge))
            {
                // The driver reports edges as it reads them: the time it called back stands for the edge's time.
                Report(debouncer.OnEdge(edge.Edge, edge.At, edge.At), line);
            }

            Report(debouncer.Poll(clock.Elapsed), line);
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
