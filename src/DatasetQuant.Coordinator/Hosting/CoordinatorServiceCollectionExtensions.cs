using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Hosting;

public static class CoordinatorServiceCollectionExtensions
{
    /// <summary>
    /// The serving coordinator: options (validated at start), the fleet store the options name (unless an
    /// <see cref="IFleetStore"/> is registered already), its counters, MQTTnet sessions (unless an
    /// <see cref="IMqttConnectionFactory"/> is registered already, as tests do), <see cref="CoordinatorService"/> and,
    /// when <see cref="CoordinatorOptions.Http"/> is set, the fleet page (<see cref="Web.FleetWebService"/>).
    /// </summary>
    public static IServiceCollection AddCoordinator(this IServiceCollection services, Action<CoordinatorOptions> configure)
    {
        services.AddOptions<CoordinatorOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMqtt();
        services.TryAddSingleton<CoordinatorCounters>();
        // Commands open the store themselves (asynchronously, reporting a bad database before the host starts) and
        // register it; this fallback opens the one the options name, blocking the start-up thread while it connects.
        services.TryAddSingleton<IFleetStore>(sp =>
            FleetDatabase.OpenAsync(sp.GetRequiredService<IOptions<CoordinatorOptions>>().Value.Database).GetAwaiter().GetResult());
        services.AddSingleton<CoordinatorService>();
        services.AddHostedService(sp => sp.GetRequiredService<CoordinatorService>());
        services.AddSingleton<Web.FleetWebService>();
        services.AddHostedService(sp => sp.GetRequiredService<Web.FleetWebService>());
        return services;
    }
}
