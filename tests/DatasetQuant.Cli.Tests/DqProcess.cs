using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

/// <summary>Runs the built dq (dq.dll beside the tests) as a separate process and captures what it prints.</summary>
internal static class DqProcess
{
    public static Task<ToolResult> RunAsync(params string[] args) => DotnetTool.RunAsync("dq.dll", TimeSpan.FromMinutes(5), args);
}
