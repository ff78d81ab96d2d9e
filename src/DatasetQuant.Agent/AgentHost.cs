using System.Diagnostics.CodeAnalysis;
using DatasetQuant.Agent.Configuration;
using DatasetQuant.Agent.FineTuning;
using DatasetQuant.Agent.Memory;
using DatasetQuant.Agent.Systemd;
using DatasetQuant.Gpio;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent;

/// <summary>Composes dq-agent: configuration, journald-friendly logs, options checked at start, and the services.</summary>
public static class AgentHost
{
    public static HostApplicationBuilder CreateBuilder(string[] args)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = args,
            ContentRootPath = AppContext.BaseDirectory,
        });
        AgentConfigurationSources.Add(builder.Configuration, args, AppContext.BaseDirectory);

        // The device id defaults to the host name, the usual certificate CN on a fleet of boards.
        if (string.IsNullOrWhiteSpace(builder.Configuration["Sync:DeviceId"]))
        {
            builder.Configuration["Sync:DeviceId"] = Environment.MachineName.ToLowerInvariant();
        }

        ConfigureLogging(builder.Logging, builder.Configuration);
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddAgentOptions(builder.Configuration);
        builder.Services.AddHostedService<AgentStartupLog>();
        builder.Services.AddAgentSystemd();
        builder.Services.AddGpio(builder.Configuration.GetSection(GpioOptions.SectionName));
        builder.Services.AddDeviceSync(builder.Configuration.GetSection(DeviceSyncOptions.SectionName));

        // A configured synthetic share overrides a generator's mixing rule, so the sync layer must not drop a pushed
        // generator because its rule says 0.
        var configuredShare = builder.Configuration.GetSection(FineTuneOptions.SectionName)[nameof(FineTuneOptions.SyntheticRatio)];
        builder.Services.PostConfigure<DeviceSyncOptions>(o => o.FollowGeneratorMixingRule &= string.IsNullOrEmpty(configuredShare));
        builder.Services.TryAddSingleton<IDeviceTrainer, ShardFineTuner>();
        builder.Services.AddSingleton<FineTuneRequests>();
        builder.Services.AddSingleton<FineTuneService>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<FineTuneService>());
        builder.Services.AddSingleton<IDeviceTopicHandler, FineTuneCommandHandler>();
        builder.Services.AddSingleton<IDeviceStateContributor, FineTuneStateContributor>();
        builder.Services.AddSingleton<IdleMemoryTrimmer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<IdleMemoryTrimmer>());
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder;
    }

    /// <summary>
    /// Reads every options class dq-agent checks, collecting all failures, so a bad config is reported as a list of
    /// fields rather than as the first exception out of host start.
    /// </summary>
    public static IReadOnlyList<string> ValidateOptions(IServiceProvider services)
    {
        var failures = new List<string>();
        Check<DeviceSyncOptions>(services, failures);
        Check<DeviceOptions>(services, failures);
        Check<OnnxRuntimeOptions>(services, failures);
        Check<FineTuneOptions>(services, failures);
        Check<GpioOptions>(services, failures);
        return failures;
    }

    private static void Check<[DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor)] TOptions>(
        IServiceProvider services, List<string> failures)
        where TOptions : class
    {
        try
        {
            _ = services.GetRequiredService<IOptions<TOptions>>().Value;
        }
        catch (OptionsValidationException ex)
        {
            failures.AddRange(ex.Failures);
        }
    }

    /// <remarks>
    /// One line per entry with a timestamp on a terminal; under systemd, AddAgentSystemd switches the console to the
    /// journal's "&lt;6&gt;category[0] message" lines (journald reads the priority and adds its own timestamp).
    /// </remarks>
    private static void ConfigureLogging(ILoggingBuilder logging, IConfiguration configuration)
    {
        logging.AddConfiguration(configuration.GetSection("Logging"));
        logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
            o.ColorBehavior = LoggerColorBehavior.Disabled;
        });

        logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Warning);
    }
}
