using System.Diagnostics;

namespace DatasetQuant.Testing;

/// <summary>What a program run to completion printed, and how it exited.</summary>
public sealed record ToolResult(int ExitCode, string StdOut, string StdErr)
{
    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}

/// <summary>Runs one of the built programs (its .dll copied beside the tests) as a separate process.</summary>
public static class DotnetTool
{
    public static async Task<ToolResult> RunAsync(string dll, TimeSpan timeout, params string[] args)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, dll));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        await process.WaitForExitAsync(cancel.Token);
        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
