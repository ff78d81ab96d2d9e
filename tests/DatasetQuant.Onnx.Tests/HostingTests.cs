using DatasetQuant.Onnx.Hosting;
using DatasetQuant.Onnx.Model;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Onnx.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task Host_with_valid_options_starts_and_opens_sessions_with_them()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOnnxRuntime(o =>
        {
            o.IntraOpThreads = 1;
            o.CpuArena = false;
        });
        using var host = builder.Build();
        await host.StartAsync();

        var (model, _, _, _, _) = TestModels.Mlp(4, 3, 2, seed: 1);
        using var session = host.Services.GetRequiredService<OnnxSessionFactory>().Open(OnnxModelWriter.Write(model), "mlp");
        var output = new float[2];
        session.Run(new float[4], [1, 4], output, [1, 2]);
        Assert.Equal(ExecutionProviders.Cpu, session.ExecutionProvider);
        await host.StopAsync();
    }

    [Fact]
    public async Task Host_with_negative_threads_fails_at_start_with_the_setting_named()
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddOnnxRuntime(o => o.IntraOpThreads = -2);
        using var host = builder.Build();

        var ex = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());
        Assert.Contains("Onnx:IntraOpThreads", ex.Message, StringComparison.Ordinal);
    }
}
