using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Hosting;

public static class CoordinatorServiceCollectionExtensions
{
    /// <summary>
    /// The serving coordinator: options (validated at start), the SQLite fleet store, MQTTnet sessions (unless an
    /// <see cref="IMqttConnectionFactory"/> is registered already, as tests do) and <see cref="CoordinatorService"/>.
    /// </summary>
    public static IServiceCollection AddCoordinator(this IServiceCollection services, Action<CoordinatorOptions> configure)
    {
        services.AddOptions<CoordinatorOptions>().Configure(configure).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<CoordinatorOptions>, CoordinatorOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.AddMqtt();
        services.TryAddSingleton<IFleetStore>(sp => SqliteFleetStore.Open(sp.GetRequiredService<IOptions<CoordinatorOptions>>().Value.DatabasePath));
        services.AddSingleton<CoordinatorService>();
        services.AddHostedService(sp => sp.GetRequiredService<CoordinatorService>());
        return services;
    }
}
