using DatasetQuant.Onnx;
using DatasetQuant.Training.Training;

namespace DatasetQuant.Cli.Commands;

/// <summary>The training commands' bad-input errors, on top of <see cref="CommandErrors"/>: one line on stderr, exit code 2.</summary>
internal static class TrainingCommandErrors
{
    public static int Run(Func<int> action) => CommandErrors.Run(() =>
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is InvalidDataException or TrainingDivergedException or OnnxFormatException or OnnxRuntimeException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return CommandErrors.BadInput;
        }
    });
}
