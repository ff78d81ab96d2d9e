using System.CommandLine;
using DatasetQuant.Cli.Commands;

namespace DatasetQuant.Cli;

internal static class Program
{
    private static int Main(string[] args)
    {
        var root = new RootCommand("dq — keep training data quantized on flash, decode it, sample generators, train offline.");
        foreach (var command in CommandCatalog.All())
        {
            root.Subcommands.Add(command);
        }

        return root.Parse(args).Invoke();
    }
}
