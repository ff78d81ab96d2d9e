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
    public async Task Env_finds_onnxruntime()
    {
        var result = await DqProcess.RunAsync("env");

        Assert.Contains("onnxruntime", result.StdOut, StringComparison.Ordinal);
        Assert.Contains("libonnxruntime.so.1", result.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_command_fails_with_a_message()
    {
        var result = await DqProcess.RunAsync("frobnicate");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("frobnicate", result.StdErr, StringComparison.Ordinal);
    }
}
