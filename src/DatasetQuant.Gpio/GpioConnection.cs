using DatasetQuant.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

/// <summary>
/// The device's GPIO chip, opened once on first use. Where there is no chip (a laptop, a container, a board
/// without the device node) it logs one line and <see cref="Driver"/> is null: the agent runs on without LED and
/// button.
/// </summary>
public sealed partial class GpioConnection : IDisposable
{
    private readonly Lazy<IGpioDriver?> _driver;

    public GpioConnection(IOptions<GpioOptions> options, ILogger<GpioConnection> logger, IGpioDriver? injected = null)
    {
        var settings = options.Value;
        _driver = new Lazy<IGpioDriver?>(() => injected ?? Open(settings, logger), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public IGpioDriver? Driver => _driver.Value;

    public void Dispose()
    {
        if (_driver.IsValueCreated)
        {
            _driver.Value?.Dispose();
        }
    }

    private static IGpioDriver? Open(GpioOptions options, ILogger logger)
    {
        if (options.Driver == GpioDriverKinds.None || (options.StatusLedLine is null && options.ButtonLine is null))
        {
            LogDisabled(logger);
            return null;
        }

        if (options.Driver == GpioDriverKinds.Simulated)
        {
            return new SimulatedGpioDriver();
        }

        try
        {
            var driver = LibgpiodDriver.Open(options.Chip!);
            LogOpened(logger, driver.Description);
            return driver;
        }
        catch (Exception ex) when (ex is GpioException or NativeLibraryNotFoundException or DllNotFoundException or EntryPointNotFoundException)
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
