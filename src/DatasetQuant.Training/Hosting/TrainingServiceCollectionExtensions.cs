using DatasetQuant.Training.Compute;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Training.Hosting;

public static class TrainingServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="TrainingHostOptions"/>, validated when the host starts (one message naming the bad setting),
    /// and one <see cref="ComputePool"/> of <see cref="TrainingHostOptions.Threads"/> threads for the host's training runs.
    /// </summary>
    public static IServiceCollection AddTraining(this IServiceCollection services, Action<TrainingHostOptions>? configure = null)
    {
        var options = services.AddOptions<TrainingHostOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.AddSingleton<IValidateOptions<TrainingHostOptions>, TrainingHostOptionsValidator>();
        options.ValidateOnStart();
        services.AddSingleton(provider => new ComputePool(provider.GetRequiredService<IOptions<TrainingHostOptions>>().Value.Threads));
        return services;
    }

    private sealed class TrainingHostOptionsValidator : IValidateOptions<TrainingHostOptions>
    {
        public ValidateOptionsResult Validate(string? name, TrainingHostOptions options) =>
            options.Check() is { } failure ? ValidateOptionsResult.Fail(failure) : ValidateOptionsResult.Success;
    }
}
