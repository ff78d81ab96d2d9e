using System.Diagnostics;

namespace DatasetQuant.Testing;

/// <summary>What a program run to completion printed, and how it exited.</summary>
public sealed record ToolResult(int ExitCode, string StdOut, string StdErr)
{
    /// <summary>Everything printed, standard output first.</summary>
    public string Output => StdOut + StdErr;

    public override string ToString() => $"exit {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}";
}

/// <summary>Runs one of the built programs (its .dll copied beside the tests) as a separate process.</summary>
public static class DotnetTool
{
    public static Task<ToolResult> RunAsync(string dll, TimeSpan timeout, params string[] args) =>
        ExternalProgram.RunAsync("dotnet", [Path.Combine(AppContext.BaseDirectory, dll), .. args], timeout);
}

/// <summary>Runs a program to completion and returns what it printed; a program still running after the timeout is killed.</summary>
public static class ExternalProgram
{
    public static async Task<ToolResult> RunAsync(string program, IEnumerable<string> args, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var startInfo = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        startInfo.Environment["NO_COLOR"] = "1";
        using var process = Process.Start(startInfo)!;
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cancel.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Path.GetFileName(program)} {string.Join(' ', startInfo.ArgumentList)} did not finish within {timeout.TotalSeconds:F0} s.");
        }

        return new ToolResult(process.ExitCode, await stdout, await stderr);
    }
}
