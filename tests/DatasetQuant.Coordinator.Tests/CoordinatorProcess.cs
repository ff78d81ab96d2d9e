using DatasetQuant.Testing;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>Runs the built dq-coordinator (dq-coordinator.dll beside the tests) as a separate process.</summary>
internal static class CoordinatorProcess
{
    public static Task<ToolResult> RunAsync(params string[] args) => DotnetTool.RunAsync("dq-coordinator.dll", TimeSpan.FromMinutes(2), args);
}
