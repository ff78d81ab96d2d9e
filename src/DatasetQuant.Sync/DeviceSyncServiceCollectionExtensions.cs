using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Shards;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Sync;

public static class DeviceSyncServiceCollectionExtensions
{
    /// <summary>
    /// Registers the device side of fleet sync: <see cref="DeviceSyncOptions"/> bound from <paramref name="section"/>
    /// (the <c>Sync</c> section) and validated at start (its shape, and that the files it names exist), <see cref="DeviceSyncEvents"/> for the host's hooks, and
    /// <see cref="DeviceSyncService"/> over the MQTTnet <see cref="IMqttConnectionFactory"/> (unless one is
    /// registered already, as tests do). The .dqs <see cref="DqsShardRequantizer"/> shrinks shards unless another
    /// <see cref="IShardRequantizer"/> is registered; the host may add any number of
    /// <see cref="IDeviceStateContributor"/>s, and of <see cref="IDeviceTopicHandler"/>s to receive its own topics over
    /// the same MQTT session.
    /// </summary>
    public static IServiceCollection AddDeviceSync(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<DeviceSyncOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceSyncOptions>, DeviceSyncOptionsValidator>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<DeviceSyncOptions>, DeviceSyncFilesValidator>());
        services.AddMqtt();
        services.TryAddSingleton<DeviceSyncEvents>();
        services.TryAddSingleton<IShardRequantizer, DqsShardRequantizer>();
        services.TryAddSingleton<DeviceSyncEngineFactory>();
        services.AddHostedService<DeviceSyncService>();
        return services;
    }
}
