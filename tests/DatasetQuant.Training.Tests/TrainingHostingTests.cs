using DatasetQuant.Training.Compute;
using DatasetQuant.Training.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Training.Tests;

public sealed class TrainingHostingTests
{
    [Fact]
    public void Valid_settings_give_a_pool_of_the_configured_size()
    {
        using var provider = new ServiceCollection().AddTraining(o => o.Threads = 2).BuildServiceProvider();
        Assert.Equal(2, provider.GetRequiredService<ComputePool>().Parallelism);
        Assert.Equal(10, provider.GetRequiredService<IOptions<TrainingHostOptions>>().Value.Epochs);
    }

    [Fact]
    public void A_bad_setting_is_named_when_the_options_are_read()
    {
        using var provider = new ServiceCollection().AddTraining(o => o.Schedule = "linear").BuildServiceProvider();
        var ex = Assert.Throws<OptionsValidationException>(() => _ = provider.GetRequiredService<IOptions<TrainingHostOptions>>().Value.Epochs);
        Assert.Equal("Training: learning-rate schedule 'linear' is not one of cosine, step, constant.", ex.Message);
    }
}
