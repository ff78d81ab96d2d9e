namespace DatasetQuant.Agent.Systemd;

/// <summary>What systemd tells a service through its environment: where to notify and how often to pet the watchdog.</summary>
public sealed record SystemdEnvironment(string? NotifySocket, TimeSpan? WatchdogInterval)
{
    public static SystemdEnvironment FromProcess() => Parse(
        Environment.GetEnvironmentVariable("NOTIFY_SOCKET"),
        Environment.GetEnvironmentVariable("WATCHDOG_USEC"),
        Environment.GetEnvironmentVariable("WATCHDOG_PID"),
        Environment.ProcessId);

    /// <summary>
    /// WATCHDOG_PID, when present, must name this process: a child that inherited the variables must not pet its
    /// parent's watchdog.
    /// </summary>
    public static SystemdEnvironment Parse(string? notifySocket, string? watchdogUsec, string? watchdogPid, int processId)
    {
        TimeSpan? interval = null;
        var forUs = string.IsNullOrEmpty(watchdogPid) || (int.TryParse(watchdogPid, out var pid) && pid == processId);
        if (forUs && ulong.TryParse(watchdogUsec, out var usec) && usec > 0)
        {
            interval = TimeSpan.FromTicks((long)Math.Min(usec * 10, (ulong)TimeSpan.MaxValue.Ticks));
        }

        return new SystemdEnvironment(string.IsNullOrEmpty(notifySocket) ? null : notifySocket, interval);
    }

    /// <summary>True when journald captures stdout/stderr (set by systemd for services).</summary>
    public static bool IsUnderJournal =>
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("INVOCATION_ID")) ||
        !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM"));
}
