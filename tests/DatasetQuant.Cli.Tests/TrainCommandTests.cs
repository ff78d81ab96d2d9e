using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Core.Datasets;
using DatasetQuant.Testing;

namespace DatasetQuant.Cli.Tests;

public sealed class TrainCommandTests
{
    [Fact]
    public async Task Train_then_eval_through_onnx_runtime_reports_accuracy_per_class_and_the_confusion_matrix()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var model = temp.File("m.onnx");
        var train = await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--epochs", "2", "--out", model, "--seed", "3");
        Assert.True(train.ExitCode == 0, train.StdErr);
        Assert.Contains("model: MLP 784-256-10 (203530 parameters), 2 epochs", train.StdOut);
        Assert.Contains("epoch 2: loss ", train.StdOut);
        Assert.False(File.Exists(model + ".ckpt"), "the checkpoint of a finished run is left behind");

        var eval = await DqProcess.RunAsync("eval", "--model", model, "--input", "fashion-mnist:train");
        Assert.True(eval.ExitCode == 0, eval.StdErr);
        var lines = eval.StdOut.Split('\n');
        Assert.StartsWith("accuracy: 0.", lines[0], StringComparison.Ordinal);
        var accuracy = double.Parse(lines[0]["accuracy: ".Length..], CultureInfo.InvariantCulture);
        Assert.InRange(accuracy, 0.78, 1.0); // 2 epochs on 10,000 samples, tested on the 60,000 others; chance is 0.10
        Assert.Contains(lines, l => l.StartsWith("   1 Trouser      0.9", StringComparison.Ordinal));
        Assert.Contains("confusion matrix (rows: true class, columns: predicted):", eval.StdOut);
        var trouserRow = lines.Single(l => l.StartsWith("   1  ", StringComparison.Ordinal));
        Assert.Equal(6000, trouserRow.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Sum(int.Parse));
    }

    [Fact]
    public async Task A_killed_run_resumes_from_its_last_checkpoint()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var model = temp.File("m.onnx");
        var checkpoint = model + ".ckpt";
        string[] args = ["train", "--data", "fashion-mnist:test", "--epochs", "6", "--out", model, "--checkpoint-every", "10"];

        var startInfo = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        startInfo.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dq.dll"));
        foreach (var arg in args)
        {
            startInfo.ArgumentList.Add(arg);
        }

        using (var process = Process.Start(startInfo)!)
        {
            var deadline = DateTime.UtcNow.AddMinutes(2);
            while (!File.Exists(checkpoint) && !process.HasExited && DateTime.UtcNow < deadline)
            {
                await Task.Delay(20);
            }

            Assert.False(process.HasExited, "the run finished before it could be killed");
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
        }

        Assert.True(File.Exists(checkpoint));
        var resumed = await DqProcess.RunAsync(args);
        Assert.True(resumed.ExitCode == 0, resumed.StdErr);
        Assert.Contains($"resuming from checkpoint {checkpoint}", resumed.StdOut);
        Assert.Contains("resumed at epoch ", resumed.StdOut);
        Assert.True(File.Exists(model));
    }

    [Fact]
    public async Task A_corrupt_checkpoint_is_a_clear_error()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var model = temp.File("m.onnx");
        await File.WriteAllBytesAsync(model + ".ckpt", new byte[300]);
        var result = await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--epochs", "1", "--out", model);
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"error: checkpoint '{model}.ckpt' is corrupt: magic 0x00000000 is not a DatasetQuant checkpoint", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public async Task Data_of_another_shape_than_the_initial_model_is_refused()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var model = temp.File("m.onnx");
        Assert.Equal(0, (await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--epochs", "1", "--out", model)).ExitCode);

        // 40 images of 1×8×8 with 10 classes.
        var x = temp.File("x.npy");
        var y = temp.File("y.npy");
        NpyWriter.Write(x, new byte[40 * 64], 40, 1, 8, 8);
        NpyWriter.Write(y, Enumerable.Range(0, 40).Select(i => (long)(i % 10)).ToArray(), 40);
        var result = await DqProcess.RunAsync("train", "--data", $"npy:{x},{y}", "--init", model, "--epochs", "1", "--out", temp.File("tuned.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("samples have 64 values, the model 784-256-10 takes 784.", result.StdErr);
    }

    [Fact]
    public async Task A_diverging_run_stops_with_a_clear_message()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var result = await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--epochs", "1", "--lr", "100000", "--out", temp.File("m.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("error: training diverged at epoch 1, batch ", result.StdErr);
        Assert.False(File.Exists(temp.File("m.onnx")));
    }
}

public sealed class TrainingInputErrorTests
{
    [Fact]
    public async Task A_generator_with_another_class_count_or_without_a_manifest_is_refused()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var x = temp.File("x.npy");
        var y = temp.File("y.npy");
        NpyWriter.Write(x, Enumerable.Range(0, 60 * 784).Select(i => (byte)(i * 7 % 251)).ToArray(), 60, 1, 28, 28);
        NpyWriter.Write(y, Enumerable.Range(0, 60).Select(i => (long)(i % 5)).ToArray(), 60);
        var generator = temp.File("g5.onnx");
        var fit = await DqProcess.RunAsync("generator", "fit", "--input", $"npy:{x},{y}", "--out", generator, "--basis-samples", "60");
        Assert.True(fit.ExitCode == 0, fit.StdErr);

        var result = await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--generator", generator, "--epochs", "1", "--out", temp.File("m.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"generator {generator} has 5 classes, fashion-mnist-test has 10.", result.StdErr);

        File.Delete(Path.ChangeExtension(generator, ".json"));
        result = await DqProcess.RunAsync("train", "--data", "fashion-mnist:test", "--generator", generator, "--epochs", "1", "--out", temp.File("m.onnx"));
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("error: ", result.StdErr, StringComparison.Ordinal);
        Assert.Contains("manifest", result.StdErr);
        Assert.DoesNotContain("   at ", result.StdErr);
    }

    [Fact]
    public async Task An_importance_model_of_another_input_size_is_a_clear_quantize_error()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var x = temp.File("x.npy");
        var y = temp.File("y.npy");
        NpyWriter.Write(x, Enumerable.Range(0, 40 * 64).Select(i => (byte)(i % 251)).ToArray(), 40, 1, 8, 8);
        NpyWriter.Write(y, Enumerable.Range(0, 40).Select(i => (long)(i % 10)).ToArray(), 40);
        var model = temp.File("m64.onnx");
        var train = await DqProcess.RunAsync("train", "--data", $"npy:{x},{y}", "--epochs", "1", "--out", model);
        Assert.True(train.ExitCode == 0, train.StdErr);

        var result = await DqProcess.RunAsync("quantize", "--input", "fashion-mnist:test", "--budget", "1bpp", "--importance", model, "--out", temp.File("q"));
        Assert.Equal(2, result.ExitCode);
        Assert.Contains($"error: importance model '{model}' takes 64 values per sample, the dataset's samples have 784 (1x28x28).", result.StdErr);
    }

    [Fact]
    public async Task Quantize_says_when_a_reference_it_does_not_trust_leaves_the_allocation_to_the_pixel_mse()
    {
        using var temp = new TempDirectory("dq-train-cli");
        var x = temp.File("x.npy");
        var y = temp.File("y.npy");
        var random = new Random(3);
        NpyWriter.Write(x, Enumerable.Range(0, 200 * 64).Select(_ => (byte)random.Next(256)).ToArray(), 200, 1, 8, 8);
        NpyWriter.Write(y, Enumerable.Range(0, 200).Select(i => (long)(i % 10)).ToArray(), 200);
        var model = temp.File("memorised.onnx");
        var train = await DqProcess.RunAsync("train", "--data", $"npy:{x},{y}", "--epochs", "60", "--out", model);
        Assert.True(train.ExitCode == 0, train.StdErr);

        // 200 noise images memorised: the reference's prices say nothing a trained model needs.
        var withModel = await DqProcess.RunAsync("quantize", "--input", $"npy:{x},{y}", "--budget", "1.5bpp", "--importance", model, "--out", temp.File("model"));
        Assert.True(withModel.ExitCode == 0, withModel.StdErr);
        Assert.Contains("the pixel MSE allocates", withModel.StdOut);
        var pixel = await DqProcess.RunAsync("quantize", "--input", $"npy:{x},{y}", "--budget", "1.5bpp", "--out", temp.File("pixel"));
        Assert.True(pixel.ExitCode == 0, pixel.StdErr);
        var shards = Directory.GetFiles(temp.File("pixel"), "*.dqs").Order().ToArray();
        Assert.NotEmpty(shards);
        Assert.All(shards, path => Assert.Equal(File.ReadAllBytes(path), File.ReadAllBytes(Path.Combine(temp.File("model"), Path.GetFileName(path)))));
    }
}
