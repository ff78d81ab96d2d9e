using DatasetQuant.Gpio;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent.Systemd;

/// <summary>
/// Tells systemd READY=1 once every service has started, WATCHDOG=1 at half the WatchdogSec interval, STATUS= lines
/// as the device's status changes, and STOPPING=1 when shutdown begins. Does nothing outside systemd.
/// </summary>
public sealed partial class SystemdNotifyService(
    SystemdEnvironment environment,
    IHostApplicationLifetime lifetime,
    DeviceStatusBoard status,
    ILogger<SystemdNotifyService> logger) : BackgroundService
{
    private SystemdNotifier? _notifier;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (environment.NotifySocket is { } socket)
        {
            _notifier = new SystemdNotifier(socket);
            lifetime.ApplicationStarted.Register(() => Send($"READY=1\nSTATUS={Describe()}\nMAINPID={Environment.ProcessId}"));
            lifetime.ApplicationStopping.Register(() => Send("STOPPING=1\nSTATUS=stopping"));
            status.Changed += OnStatusChanged;
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        status.Changed -= OnStatusChanged;
        await base.StopAsync(cancellationToken);
    }

    public override void Dispose()
    {
        _notifier?.Dispose();
        base.Dispose();
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_notifier is null || environment.WatchdogInterval is not { } interval)
        {
            return;
        }

        // Half the interval, as sd_watchdog_enabled(3) advises, so one late tick does not get us killed.
        using var timer = new PeriodicTimer(interval / 2);
        Send("WATCHDOG=1");
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                Send("WATCHDOG=1");
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private string Describe() => $"{status.Status.ToString().ToLowerInvariant()}: {status.Detail}";

    private void OnStatusChanged(object? sender, DeviceStatus e) => Send($"STATUS={Describe()}");

    private void Send(string state)
    {
        if (_notifier is { } notifier && !notifier.Notify(state))
        {
            LogSendFailed(logger, notifier.SocketPath, notifier.LastError);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "systemd notify to {Socket} failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string socket, string? error);
}
