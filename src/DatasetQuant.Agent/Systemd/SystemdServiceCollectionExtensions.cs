using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging.Console;

namespace DatasetQuant.Agent.Systemd;

public static class SystemdServiceCollectionExtensions
{
    /// <summary>
    /// Lets the service manager follow dq-agent: READY=1 once every service has started and STOPPING=1 when shutdown
    /// begins (Microsoft.Extensions.Hosting.Systemd's <see cref="SystemdLifetime"/>), WATCHDOG=1 pings and STATUS=
    /// lines (<see cref="SystemdStatusService"/>), and log lines in the journal's format. Call after the console
    /// logger is added, so that the journal format wins where it applies.
    /// </summary>
    /// <remarks>
    /// <see cref="SystemdHostBuilderExtensions.AddSystemd(IServiceCollection)"/> 10.0 switches itself on only when
    /// the parent process is systemd (or the process is PID 1 with NOTIFY_SOCKET set). A supervisor that is not
    /// systemd but speaks its notify protocol, such as the test harnesses and eng/measure-agent.py, sets
    /// NOTIFY_SOCKET and must see the same READY=1 and STOPPING=1: there the same two library types are registered
    /// here. The package's later SystemdHelpers (dotnet/runtime main) registers the lifetime on NOTIFY_SOCKET alone too.
    /// </remarks>
    public static IServiceCollection AddAgentSystemd(this IServiceCollection services)
    {
        services.AddSystemd();
        if (!SystemdHelpers.IsSystemdService() && !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("NOTIFY_SOCKET")))
        {
            services.AddSingleton<ISystemdNotifier, SystemdNotifier>();
            services.AddSingleton<IHostLifetime, SystemdLifetime>();
        }

        // Without NOTIFY_SOCKET the notifier is disabled (IsEnabled false) and the status service does nothing.
        services.TryAddSingleton<ISystemdNotifier, SystemdNotifier>();
        services.AddSingleton(SystemdWatchdog.FromEnvironment());
        services.AddHostedService<SystemdStatusService>();

        // stdout is the journal (systemd sets JOURNAL_STREAM then) even where AddSystemd did not recognise systemd.
        if (!string.IsNullOrEmpty(Environment.GetEnvironmentVariable("JOURNAL_STREAM")))
        {
            services.Configure<ConsoleLoggerOptions>(o => o.FormatterName = ConsoleFormatterNames.Systemd);
        }

        return services;
    }
}
