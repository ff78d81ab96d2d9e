using System.Device.Gpio;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>
/// The device's GPIO chip behind one <see cref="GpioController"/>, opened on first use. Where there is no chip (a
/// laptop, a container, a board without the device node or without libgpiod) it logs one line and
/// <see cref="Controller"/> is null: the agent runs on without LED and button.
/// </summary>
public sealed partial class GpioConnection : IDisposable
{
    private readonly Lazy<GpioController?> _controller;

    /// <param name="driver">A driver to use instead of the board's chip (a simulated board in tests).</param>
    public GpioConnection(IOptions<GpioOptions> options, ILogger<GpioConnection> logger, GpioDriver? driver = null)
    {
        var settings = options.Value;
        _controller = new Lazy<GpioController?>(() => Open(settings, driver, logger), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public GpioController? Controller => _controller.Value;

    /// <summary>
    /// Opens <paramref name="line"/> in <paramref name="mode"/> (an output at <paramref name="initialValue"/>).
    /// Lines the chip does not have are refused here: libgpiod v1 would be handed a null line.
    /// </summary>
    public static void OpenLine(GpioController controller, int line, PinMode mode, PinValue? initialValue = null)
    {
        if (line >= controller.PinCount)
        {
            throw new GpioException($"GPIO line {line} is not on the chip, which has lines 0..{controller.PinCount - 1}");
        }

        try
        {
            if (initialValue is { } value)
            {
                controller.OpenPin(line, mode, value);
            }
            else
            {
                controller.OpenPin(line, mode);
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ArgumentException && ex is not GpioException)
        {
            throw new GpioException($"GPIO line {line} could not be requested as {mode}: {ex.Message}", ex);
        }
    }

    public void Dispose()
    {
        if (_controller.IsValueCreated)
        {
            _controller.Value?.Dispose();
        }
    }

    private static GpioController? Open(GpioOptions options, GpioDriver? driver, ILogger logger)
    {
        if (options.Driver == GpioDriverKinds.None || (options.StatusLedLine is null && options.ButtonLine is null))
        {
            LogDisabled(logger);
            return null;
        }

        if (driver is not null)
        {
            LogOpened(logger, driver.GetType().Name);
            return new GpioController(driver);
        }

        try
        {
            var (chip, description) = LibgpiodChip.Open(options.Driver, options.Chip!);
            LogOpened(logger, description);
            return new GpioController(chip);
        }
        catch (GpioException ex)
        {
            LogUnavailable(logger, ex.Message);
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GPIO disabled by configuration; no status LED or button")]
    private static partial void LogDisabled(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "GPIO: {Description}")]
    private static partial void LogOpened(ILogger logger, string description);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPIO unavailable, running without status LED and button: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string reason);
}
