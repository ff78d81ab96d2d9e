namespace DatasetQuant.Agent.Systemd;

/// <summary>
/// The watchdog systemd arms with WatchdogSec=: it passes the interval as WATCHDOG_USEC and expects WATCHDOG=1 more
/// often than that. Microsoft.Extensions.Hosting.Systemd does not read these variables; this does.
/// </summary>
public sealed record SystemdWatchdog(TimeSpan? Interval)
{
    /// <summary>How often to ping: half the interval, as sd_watchdog_enabled(3) advises, so one late tick is not fatal.</summary>
    public TimeSpan? PingEvery => Interval / 2;

    public static SystemdWatchdog FromEnvironment() => Parse(
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
        Environment.GetEnvironmentVariable("WATCHDOG_PID"),
        Environment.ProcessId);

    /// <summary>
    /// WATCHDOG_PID, when present, must name this process: a child that inherited the variables must not ping its
    /// parent's watchdog.
    /// </summary>
    public static SystemdWatchdog Parse(string? watchdogUsec, string? watchdogPid, int processId)
    {
        var forUs = string.IsNullOrEmpty(watchdogPid) || (int.TryParse(watchdogPid, out var pid) && pid == processId);
        if (forUs && ulong.TryParse(watchdogUsec, out var usec) && usec > 0)
        {
            return new SystemdWatchdog(TimeSpan.FromTicks((long)Math.Min(usec * 10, (ulong)TimeSpan.MaxValue.Ticks)));
        }

        return new SystemdWatchdog((TimeSpan?)null);
    }
}
