using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq onnx info MODEL</c> and <c>dq onnx bench MODEL</c>: what a model takes and gives, and how fast it runs here.</summary>
internal static class OnnxCommand
{
    public static Command Create()
    {
        var command = new Command("onnx", "Inspect and time ONNX models with the bundled ONNX Runtime.");
        command.Subcommands.Add(Info());
        command.Subcommands.Add(OnnxBenchCommand.Create());
        return command;
    }

    private static Command Info()
    {
        var model = new Argument<string>("model") { Description = "The .onnx file" };
        var provider = new Option<string>("--provider") { Description = "Execution provider to try (cpu, cuda, tensorrt)", DefaultValueFactory = _ => "cpu" };
        var info = new Command("info", "Inputs, outputs, the ONNX Runtime version and its execution providers.") { model, provider };
        info.SetAction(parse => OnnxCommandErrors.Run(() =>
        {
            var path = parse.GetValue(model)!;
            var clock = Stopwatch.StartNew();
            using var session = OnnxSession.Load(path, new OnnxSessionOptions { ExecutionProvider = parse.GetValue(provider)! });
            Console.WriteLine($"model:      {Path.GetFullPath(path)} ({new FileInfo(path).Length} bytes, loaded in {clock.ElapsedMilliseconds} ms)");
            Console.WriteLine($"runtime:    ONNX Runtime {OnnxRuntime.Version} ({OnnxRuntime.LibraryPath})");
            Console.WriteLine($"providers:  {string.Join(", ", OnnxRuntime.AvailableProviders)} (session uses {session.ExecutionProvider})");
            foreach (var input in session.Inputs)
            {
                Console.WriteLine($"input:      {input}");
            }

            foreach (var output in session.Outputs)
            {
                Console.WriteLine($"output:     {output}");
            }

            return 0;
        }));
        return info;
    }

    internal static string Format(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);
}
