using System.CommandLine;
using DatasetQuant.Native;

namespace DatasetQuant.Cli.Commands;

/// <summary><c>dq env</c>: where each native library is found on this machine, or why it is not.</summary>
internal static class EnvironmentCommand
{
    public static Command Create()
    {
        var command = new Command("env", "Show where dq finds ONNX Runtime and libmosquitto, and the cache folder.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"cache: {NativeLibraryResolver.CacheRoot}");
            Console.WriteLine($"rid:   {NativeLibraryResolver.CurrentRid}");
            var missing = 0;
            foreach (var spec in new[] { KnownNativeLibraries.OnnxRuntime, KnownNativeLibraries.Mosquitto })
            {
                try
                {
                    NativeLibraryResolver.Load(spec);
                    Console.WriteLine($"{spec.ImportName,-12} {NativeLibraryResolver.LoadedFrom(spec)}");
                }
                catch (NativeLibraryNotFoundException ex)
                {
                    missing++;
                    Console.Error.WriteLine($"{spec.ImportName,-12} missing: {ex.Message}");
                }
            }

            return missing == 0 ? 0 : 1;
        });
        return command;
    }
}
