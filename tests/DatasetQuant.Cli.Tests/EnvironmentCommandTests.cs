namespace DatasetQuant.Cli.Tests;

public sealed class EnvironmentCommandTests
{
    [Fact]
    public async Task Help_lists_the_commands()
    {
        var result = await DqProcess.RunAsync("--help");

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("env", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Env_reports_the_onnx_runtime_it_loads()
    {
        var result = await DqProcess.RunAsync("env");

        Assert.Contains("onnxruntime   1.32.", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("/libonnxruntime.so", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("providers:  CPUExecutionProvider", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_fails_with_a_message()
    {
        var result = await DqProcess.RunAsync("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("frobnicate", result.StdErr, StringComparison.Ordinal);
    }
}
