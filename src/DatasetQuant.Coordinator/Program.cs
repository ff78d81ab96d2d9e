using Microsoft.Extensions.Hosting;

namespace DatasetQuant.Coordinator;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        var builder = Host.CreateApplicationBuilder(args);
        using var host = builder.Build();
        await host.RunAsync();
        return 0;
    }
}
