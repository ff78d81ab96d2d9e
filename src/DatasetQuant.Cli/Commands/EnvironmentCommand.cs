using System.CommandLine;
using System.Runtime.InteropServices;
using DatasetQuant.Native;
using DatasetQuant.Onnx;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq env</c>: the ONNX Runtime dq runs on and the native libraries it finds on this machine, or why not.</summary>
internal static class EnvironmentCommand
{
    public static Command Create()
    {
        var command = new Command("env", "Show the ONNX Runtime dq loads (version, file, execution providers) and where libgpiod is found.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"rid:          {RuntimeInformation.RuntimeIdentifier}");
            var missing = 0;
            try
            {
                var version = OnnxRuntime.Version;
                Console.WriteLine($"onnxruntime   {version} {OnnxRuntime.LibraryPath}");
                Console.WriteLine($"  providers:  {string.Join(", ", OnnxRuntime.AvailableProviders)}");
            }
            catch (OnnxRuntimeException ex)
            {
                missing++;
                Console.Error.WriteLine($"onnxruntime   missing: {ex.Message}");
            }

            foreach (var spec in new[] { KnownNativeLibraries.Gpiod })
            {
                try
                {
                    NativeLibraryResolver.Load(spec);
                    Console.WriteLine($"{spec.ImportName,-12}  {NativeLibraryResolver.LoadedFrom(spec)}");
                }
                catch (NativeLibraryNotFoundException ex)
                {
                    missing++;
                    Console.Error.WriteLine($"{spec.ImportName,-12}  missing: {ex.Message}");
                }
            }

            return missing == 0 ? 0 : 1;
        });
        return command;
    }
}
