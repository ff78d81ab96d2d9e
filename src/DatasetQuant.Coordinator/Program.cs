using System.CommandLine;
using DatasetQuant.Coordinator.Commands;

namespace DatasetQuant.Coordinator;

internal static class Program
{
    private static Task<int> Main(string[] args) => BuildRootCommand().Parse(args).InvokeAsync();

    public static RootCommand BuildRootCommand()
    {
        var root = new RootCommand(
            "dq-coordinator — keeps the fleet registry, decides each device's byte budget, pushes signed datasets " +
            "to the whole fleet over MQTT 5 and repairs what single devices missed.");
        root.Subcommands.Add(KeygenCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(PublishCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        return root;
    }
}
