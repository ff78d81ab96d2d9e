using System.Net.Sockets;
using DatasetQuant.Gpio;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent.Systemd;

/// <summary>
/// What the library's <see cref="SystemdLifetime"/> does not send: WATCHDOG=1 at half the WatchdogSec interval, and a
/// STATUS= line (shown by <c>systemctl status</c>) once started and whenever the device's status changes. Does
/// nothing where the notifier is disabled (no NOTIFY_SOCKET). A failed send is logged, never thrown: a manager that
/// went away must not take the service down with it.
/// </summary>
public sealed partial class SystemdStatusService(
    ISystemdNotifier notifier,
    SystemdWatchdog watchdog,
    IHostApplicationLifetime lifetime,
    DeviceStatusBoard status,
    ILogger<SystemdStatusService> logger) : BackgroundService
{
    public override Task StartAsync(CancellationToken cancellationToken)
    {
        if (notifier.IsEnabled)
        {
            lifetime.ApplicationStarted.Register(() => Send($"STATUS={Describe()}"));
            lifetime.ApplicationStopping.Register(() => Send("STATUS=stopping"));
            status.Changed += OnStatusChanged;
        }

        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        status.Changed -= OnStatusChanged;
        await base.StopAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!notifier.IsEnabled || watchdog.PingEvery is not { } period)
        {
            return Task.CompletedTask;
        }

        // A thread of its own, not a timer on the thread pool: a ping must not wait behind pool threads blocked in an
        // fsync on a slow card or busy with other work, or systemd kills the service mid-sync (a test saw a 3 s gap).
        return Task.Factory.StartNew(() => PingUntilStopped(period, stoppingToken), CancellationToken.None,
            TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    private void PingUntilStopped(TimeSpan period, CancellationToken stoppingToken)
    {
        do
        {
            Send("WATCHDOG=1");
        }
        while (!stoppingToken.WaitHandle.WaitOne(period));
    }

    private string Describe() => $"{status.Status.ToString().ToLowerInvariant()}: {status.Detail}";

    private void OnStatusChanged(object? sender, DeviceStatus e) => Send($"STATUS={Describe()}");

    private void Send(string state)
    {
        try
        {
            notifier.Notify(new ServiceState(state));
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
            LogSendFailed(logger, state, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "systemd notify '{State}' failed: {Error}")]
    private static partial void LogSendFailed(ILogger logger, string state, string error);
}
