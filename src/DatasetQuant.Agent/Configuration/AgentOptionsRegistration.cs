using DatasetQuant.Agent.Onnx;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Agent.Configuration;

public static class AgentOptionsRegistration
{
    /// <summary>
    /// Binds and validates (at start) every section dq-agent reads itself; the <c>Sync</c> section is the sync library's
    /// (<c>AddDeviceSync</c>).
    /// </summary>
    public static IServiceCollection AddAgentOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DeviceOptions>().Bind(configuration.GetSection(DeviceOptions.SectionName)).ValidateOnStart();
        services.AddOptions<OnnxRuntimeOptions>().Bind(configuration.GetSection(OnnxRuntimeOptions.SectionName)).ValidateOnStart();
        services.AddOptions<FineTuneOptions>().Bind(configuration.GetSection(FineTuneOptions.SectionName)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceOptions>, DeviceOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<OnnxRuntimeOptions>, OnnxRuntimeOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<FineTuneOptions>, FineTuneOptionsValidator>());
        services.TryAddSingleton(sp => ExecutionProviderSelection.Resolve(
            sp.GetRequiredService<IOptions<OnnxRuntimeOptions>>().Value,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(ExecutionProviderSelection).FullName!)));
        return services;
    }
}
