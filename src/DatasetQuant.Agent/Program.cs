using System.Reflection;
using Microsoft.Extensions.Hosting;

namespace DatasetQuant.Agent;

internal static class Program
{
    private static async Task<int> Main(string[] args)
    {
        if (args is ["--version"])
        {
            Console.WriteLine($"dq-agent {typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion}");
            return 0;
        }

        var builder = Host.CreateApplicationBuilder(args);
        using var host = builder.Build();
        await host.RunAsync();
        return 0;
    }
}
