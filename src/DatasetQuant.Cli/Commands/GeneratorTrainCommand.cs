using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace DatasetQuant.Cli.Commands;

/// <summary>
/// <c>dq generator train</c>: trains a DiM generator on the cloud side by running the repository's training tool
/// (<c>tools/dimtrain</c>, Python on Debian's CPU torch; docs/generators.md says why) with the chosen recipe
/// (<c>dimtrain.refine</c> for skip, <c>dimtrain.train</c> for vae) and passes its exit code on.
/// </summary>
internal static class GeneratorTrainCommand
{
    public const string ToolEnvironment = "DQ_DIMTRAIN";

    public static Command Create()
    {
        var output = new Option<string>("--out") { Description = "Folder for G.onnx, G.json, train-log.jsonl and summary.json", Required = true };
        var seed = new Option<int>("--seed") { Description = "Seed of everything random in the run", DefaultValueFactory = _ => 1 };
        var recipe = new Option<string>("--recipe")
        {
            Description = "skip: per-class linear-Gaussian skip path fitted in closed form, DiM network trained adversarially and by logit matching on top; vae: conditional-VAE stage, then DiM's logit matching",
            DefaultValueFactory = _ => "skip",
        };
        recipe.AcceptOnlyFromAmong("skip", "vae");
        var minutes = new Option<double>("--budget-minutes") { Description = "Wall-clock limit; the best generator so far is exported", DefaultValueFactory = _ => 60 };
        var threads = new Option<int>("--threads") { Description = "torch intra-op threads", DefaultValueFactory = _ => 1 };
        var widths = new Option<string?>("--widths") { Description = "DiM network channels at 7x7,14x14,28x28 (default: skip 48,24,12; vae 64,32,16; DiM's paper: 196,196,196, for a GPU)" };
        var tool = new Option<string?>("--tool") { Description = $"The tools/dimtrain folder (default: ${ToolEnvironment}, else found above this program)" };
        var python = new Option<string>("--python") { Description = "The Python with torch and onnx (Debian: python3-torch, python3-onnx)", DefaultValueFactory = _ => "/usr/bin/python3" };
        var command = new Command("train", "Train a DiM generator for Fashion-MNIST and export the one that validates best (DiM's protocol) with its manifest.")
        {
            output, recipe, seed, minutes, threads, widths, tool, python,
        };
        command.SetAction(parse => CommandErrors.Run(() =>
        {
            var folder = parse.GetValue(tool) ?? Environment.GetEnvironmentVariable(ToolEnvironment) ?? FindTool();
            var isSkip = parse.GetValue(recipe) == "skip";
            if (folder is null || !File.Exists(Path.Combine(folder, "dimtrain", isSkip ? "refine.py" : "train.py")))
            {
                Console.Error.WriteLine($"error: the training tool (tools/dimtrain) was not found{(folder is null ? string.Empty : $" in '{folder}'")}; give --tool or set {ToolEnvironment}.");
                return CommandErrors.BadInput;
            }

            var start = new ProcessStartInfo(parse.GetValue(python)!) { WorkingDirectory = folder, UseShellExecute = false };
            foreach (var argument in new[]
            {
                "-m", isSkip ? "dimtrain.refine" : "dimtrain.train", "--out", Path.GetFullPath(parse.GetValue(output)!),
                "--seed", parse.GetValue(seed).ToString(CultureInfo.InvariantCulture),
                "--budget-minutes", parse.GetValue(minutes).ToString(CultureInfo.InvariantCulture),
                "--threads", parse.GetValue(threads).ToString(CultureInfo.InvariantCulture),
                "--widths", parse.GetValue(widths) ?? (isSkip ? "48,24,12" : "64,32,16"),
            })
            {
                start.ArgumentList.Add(argument);
            }

            try
            {
                using var process = Process.Start(start)!;
                process.WaitForExit();
                return process.ExitCode;
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                Console.Error.WriteLine($"error: cannot run '{start.FileName}': {ex.Message} (install python3-torch and python3-onnx: ./build.sh --target=Bootstrap)");
                return CommandErrors.BadInput;
            }
        }));
        return command;
    }

    private static string? FindTool()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tools", "dimtrain");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
