using System.CommandLine;
using System.Runtime.InteropServices;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq env</c>: the ONNX Runtime dq runs on (version, file, execution providers), or why it cannot load.</summary>
internal static class EnvironmentCommand
{
    public static Command Create()
    {
        var command = new Command("env", "Show the ONNX Runtime dq loads: version, file and execution providers.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"rid:          {RuntimeInformation.RuntimeIdentifier}");
            try
            {
                Console.WriteLine($"onnxruntime   {OnnxRuntime.Version} {OnnxRuntime.LibraryPath}");
                Console.WriteLine($"  providers:  {string.Join(", ", OnnxRuntime.AvailableProviders)}");
                return 0;
            }
            catch (OnnxRuntimeException ex)
            {
                Console.Error.WriteLine($"onnxruntime   missing: {ex.Message}");
                return 1;
            }
        });
        return command;
    }
}
