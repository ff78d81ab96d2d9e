using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Formats.Dqs;

namespace DatasetQuant.Cli.Commands;

/// <summary>Turns the errors bad input raises into one line on stderr and exit code 2, instead of a stack trace.</summary>
internal static class CommandErrors
{
    public const int BadInput = 2;

    public static int Run(Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception ex) when (ex is DatasetFormatException or DqsFormatException or FormatException or IOException
                                       or ArgumentException or InvalidOperationException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {ex.Message}");
            return BadInput;
        }
    }
}
