using DatasetQuant.Agent.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent;

internal static class Program
{
    /// <summary>sysexits EX_USAGE: bad command line.</summary>
    private const int ExitUsage = 64;

    /// <summary>sysexits EX_CONFIG: the unit's RestartPreventExitStatus keeps systemd from looping on a bad config.</summary>
    private const int ExitConfig = 78;

    private static async Task<int> Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.WriteLine($"dq-agent {AgentStartupLog.Version}");
            return 0;
        }

        if (args is ["--help"] or ["-h"])
        {
            Console.WriteLine(AgentCommandLine.Usage);
            return 0;
        }

        if (AgentCommandLine.FindError(args) is { } usageError)
        {
            Console.Error.WriteLine($"dq-agent: {usageError}");
            Console.Error.WriteLine(AgentCommandLine.Usage);
            return ExitUsage;
        }

        HostApplicationBuilder builder;
        try
        {
            builder = AgentHost.CreateBuilder(args);
        }
        catch (AgentConfigurationException ex)
        {
            Console.Error.WriteLine($"dq-agent: configuration error: {ex.Message}");
            return ExitConfig;
        }

        using var host = builder.Build();
        var failures = AgentHost.ValidateOptions(host.Services);
        if (failures.Count > 0)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("DatasetQuant.Agent");
            foreach (var failure in failures)
            {
                LogConfigurationError(logger, failure);
            }

            return ExitConfig;
        }

        await host.RunAsync();
        return 0;
    }

    private static void LogConfigurationError(ILogger logger, string failure) =>
        logger.LogCritical("Configuration error: {Failure}", failure);
}
