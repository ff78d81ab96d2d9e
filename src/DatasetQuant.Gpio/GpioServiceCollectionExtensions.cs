using System.Device.Gpio;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Gpio;

public static class GpioServiceCollectionExtensions
{
    /// <summary>
    /// Adds the status LED and the button from the <c>Gpio</c> section. A <see cref="GpioDriver"/> registered
    /// beforehand (a simulated board in tests) is used instead of the board's chip, and disposed with the controller.
    /// </summary>
    public static IServiceCollection AddGpio(this IServiceCollection services, IConfiguration section)
    {
        services.AddOptions<GpioOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<GpioOptions>, GpioOptionsValidator>());
        services.TryAddSingleton<DeviceStatusBoard>();
        services.TryAddSingleton<GpioButton>();
        services.TryAddSingleton(sp => new GpioConnection(
            sp.GetRequiredService<IOptions<GpioOptions>>(),
            sp.GetRequiredService<ILogger<GpioConnection>>(),
            sp.GetService<GpioDriver>()));
        services.AddHostedService<StatusLedService>();
        services.AddHostedService<ButtonService>();
        return services;
    }
}
