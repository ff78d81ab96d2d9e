using DatasetQuant.Onnx;
using DatasetQuant.Onnx.Generators;

namespace DatasetQuant.Cli.Commands;

/// <summary>The ONNX-side errors bad input raises (corrupt model, contradicting manifest, missing library) as one line and exit 2.</summary>
internal static class OnnxCommandErrors
{
    public static int Run(Func<int> action) => CommandErrors.Run(() =>
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is OnnxRuntimeException or OnnxFormatException or GeneratorManifestException or NotSupportedException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return CommandErrors.BadInput;
        }
    });
}
