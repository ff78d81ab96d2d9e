using System.Diagnostics;
using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

/// <summary><c>dq onnx bench --serve</c>, the C# side of eng/bench/onnx-vs-node.js, driven the way that script drives it.</summary>
public sealed class OnnxBenchServeTests
{
    [Fact]
    public async Task Serve_answers_each_run_line_with_that_many_wall_and_cpu_times_and_allocates_nothing()
    {
        using var dir = new TempDirectory();
        var model = dir.File("G.onnx");
        await DqProcess.RunAsync("generator", "fit", "--input", "fashion-mnist", "--limit", "1000", "--basis-samples", "500", "--out", model);
        using var process = Start("onnx", "bench", model, "--batch", "4", "--warmup", "1", "--spinning", "false", "--serve");

        var ready = await process.StandardOutput.ReadLineAsync();
        await process.StandardInput.WriteLineAsync("run 3");
        var first = await process.StandardOutput.ReadLineAsync();
        await process.StandardInput.WriteLineAsync("run 2");
        var second = await process.StandardOutput.ReadLineAsync();
        await process.StandardInput.WriteLineAsync("quit");
        var summary = await process.StandardOutput.ReadLineAsync();
        await process.WaitForExitAsync();

        Assert.Equal(0, process.ExitCode);
        Assert.StartsWith("ready model G.onnx batch 4 threads 1 arena on mem-pattern on spinning off", ready, StringComparison.Ordinal);
        Assert.Equal((3, 3), Counts(first!));
        Assert.Equal((2, 2), Counts(second!));
        Assert.Contains("managed bytes allocated while timing: 0", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Serve_refuses_a_malformed_run_line_with_one_clear_error()
    {
        using var dir = new TempDirectory();
        var model = dir.File("G.onnx");
        await DqProcess.RunAsync("generator", "fit", "--input", "fashion-mnist", "--limit", "1000", "--basis-samples", "500", "--out", model);
        using var process = Start("onnx", "bench", model, "--batch", "2", "--warmup", "0", "--serve");

        await process.StandardOutput.ReadLineAsync();
        await process.StandardInput.WriteLineAsync("run lots");
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.NotEqual(0, process.ExitCode);
        Assert.Contains("'run lots'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    private static (int Wall, int Cpu) Counts(string line)
    {
        var parts = line.Split(" cpu ");
        Assert.StartsWith("ms ", parts[0], StringComparison.Ordinal);
        var wall = parts[0][3..].Split(' ').Select(double.Parse).ToArray();
        var cpu = parts[1].Split(' ').Select(double.Parse).ToArray();
        Assert.All(wall, w => Assert.True(w > 0));
        Assert.All(cpu, c => Assert.True(c >= 0));
        return (wall.Length, cpu.Length);
    }

    private static Process Start(params string[] args)
    {
        var startInfo = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dq.dll"));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        return Process.Start(startInfo)!;
    }
}
