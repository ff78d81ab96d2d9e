using System.Diagnostics;
using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

public sealed class GeneratorCommandTests
{
    [Fact]
    public async Task Fit_then_sample_writes_reproducible_npy_and_a_dqs_shard()
    {
        using var dir = new TempDirectory();
        var model = dir.File("G.onnx");

        var fit = await DqProcess.RunAsync("generator", "fit", "--input", "fashion-mnist", "--limit", "3000", "--basis-samples", "1000", "--out", model);
        Assert.True(fit.ExitCode == 0, fit.StdErr);
        Assert.True(File.Exists(dir.File("G.json")));

        var a = await DqProcess.RunAsync("sample", "--generator", model, "--count", "100", "--out", dir.File("a.npy"), "--seed", "5", "--batch", "32");
        var b = await DqProcess.RunAsync("sample", "--generator", model, "--count", "100", "--out", dir.File("b.npy"), "--seed", "5", "--batch", "32");
        Assert.True(a.ExitCode == 0, a.StdErr);
        Assert.Contains("images/s", a.StdOut, StringComparison.Ordinal);
        var bytes = File.ReadAllBytes(dir.File("a.npy"));
        Assert.Equal(bytes, File.ReadAllBytes(dir.File("b.npy")));
        Assert.Equal(128 + 100 * 784 * 4, bytes.Length); // float32 [100,1,28,28] after a 128-byte npy header
        Assert.True(File.Exists(dir.File("a.labels.npy")));

        var shard = await DqProcess.RunAsync("sample", "--generator", model, "--count", "50", "--out", dir.File("g.dqs"), "--bits", "4");
        Assert.True(shard.ExitCode == 0, shard.StdErr);
        var inspect = await DqProcess.RunAsync("inspect", dir.File("g.dqs"));
        Assert.Contains("4:50", inspect.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Onnx_info_lists_inputs_outputs_and_providers()
    {
        using var dir = new TempDirectory();
        var model = dir.File("D.onnx");
        var arch = await DqProcess.RunAsync("generator", "dim-arch", "--dataset", "cifar10", "--out", model);
        Assert.True(arch.ExitCode == 0, arch.StdErr);

        var info = await DqProcess.RunAsync("onnx", "info", model);

        Assert.Equal(0, info.ExitCode);
        Assert.Contains("noise: float32[?,100]", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("image: float32[?,3,32,32]", info.StdOut, StringComparison.Ordinal);
        Assert.Contains("CPUExecutionProvider", info.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Onnx_bench_reports_overhead_and_no_managed_allocation()
    {
        using var dir = new TempDirectory();
        var model = dir.File("G.onnx");
        await DqProcess.RunAsync("generator", "fit", "--input", "fashion-mnist", "--limit", "1000", "--basis-samples", "500", "--out", model);

        var bench = await DqProcess.RunAsync("onnx", "bench", model, "--batch", "16", "--iterations", "50");
        var cuda = await DqProcess.RunAsync("sample", "--generator", model, "--count", "3", "--out", dir.File("c.npy"), "--provider", "cuda");

        Assert.True(bench.ExitCode == 0, bench.StdErr);
        Assert.Contains("API overhead 1.", bench.StdOut, StringComparison.Ordinal);
        Assert.Contains("managed bytes allocated while timing: 0", bench.StdOut, StringComparison.Ordinal);
        Assert.True(cuda.ExitCode == 0, cuda.StdErr);
        var line = Assert.Single(cuda.StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries)); // exactly one log line
        Assert.Contains("'cuda' unavailable", line, StringComparison.Ordinal);
        Assert.Contains("using CPU", line, StringComparison.Ordinal);
        Assert.Contains("on CPUExecutionProvider", cuda.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Corrupt_model_and_contradicting_manifest_each_give_one_clear_error()
    {
        using var dir = new TempDirectory();
        var model = dir.File("G.onnx");
        await DqProcess.RunAsync("generator", "dim-arch", "--dataset", "fashion-mnist", "--out", model);
        var manifest = File.ReadAllText(dir.File("G.json")).Replace("\"height\": 28", "\"height\": 32", StringComparison.Ordinal);
        File.WriteAllText(dir.File("G.json"), manifest);

        var contradiction = await DqProcess.RunAsync("sample", "--generator", model, "--count", "1", "--out", dir.File("x.npy"));
        Assert.Equal(2, contradiction.ExitCode);
        Assert.Contains("G.json", contradiction.StdErr, StringComparison.Ordinal);
        Assert.Contains("height", contradiction.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", contradiction.StdErr, StringComparison.Ordinal);

        var bytes = File.ReadAllBytes(model);
        File.WriteAllBytes(model, bytes[..(bytes.Length / 3)]);
        var truncated = await DqProcess.RunAsync("onnx", "info", model);
        Assert.Equal(2, truncated.ExitCode);
        Assert.Contains("G.onnx", truncated.StdErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", truncated.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Generator_train_offers_the_two_recipes_and_refuses_another_before_running_anything()
    {
        var help = await DqProcess.RunAsync("generator", "train", "--help");
        Assert.Equal(0, help.ExitCode);
        Assert.Contains("--recipe", help.StdOut, StringComparison.Ordinal);
        Assert.Contains("skip", help.StdOut, StringComparison.Ordinal);

        using var dir = new TempDirectory();
        var wrong = await DqProcess.RunAsync("generator", "train", "--recipe", "gan", "--out", dir.File("out"));
        Assert.NotEqual(0, wrong.ExitCode);
        Assert.Contains("gan", wrong.StdErr, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir.File("out")));
    }

    [Fact]
    public async Task Missing_onnx_runtime_library_is_one_clear_error()
    {
        // dq without the package's runtimes/ folder: what a copy that lost libonnxruntime.so looks like.
        using var dir = new TempDirectory();
        var app = Directory.CreateDirectory(dir.File("app")).FullName;
        foreach (var file in Directory.GetFiles(AppContext.BaseDirectory))
        {
            File.Copy(file, Path.Combine(app, Path.GetFileName(file)));
        }

        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        startInfo.ArgumentList.Add(Path.Combine(app, "dq.dll"));
        foreach (var arg in new[] { "onnx", "info", dir.File("any.onnx") })
        {
            startInfo.ArgumentList.Add(arg);
        }

        File.WriteAllBytes(dir.File("any.onnx"), [8, 8]);
        using var process = Process.Start(startInfo)!;
        var stderr = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.Equal(2, process.ExitCode);
        Assert.Contains("libonnxruntime.so", stderr, StringComparison.Ordinal);
        Assert.Contains("Microsoft.ML.OnnxRuntime", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }
}
