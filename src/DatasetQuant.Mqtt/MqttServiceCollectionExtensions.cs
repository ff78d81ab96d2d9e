using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Mqtt;

public static class MqttServiceCollectionExtensions
{
    /// <summary>Registers <see cref="IMqttConnectionFactory"/> over MQTTnet (kept if one is already registered).</summary>
    public static IServiceCollection AddMqtt(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IMqttConnectionFactory>(static provider =>
            new MqttConnectionFactory(provider.GetService<ILoggerFactory>()));
        return services;
    }
}
