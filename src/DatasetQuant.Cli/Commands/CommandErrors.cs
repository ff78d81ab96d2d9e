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
                                       or ArgumentException or InvalidOperationException or NotSupportedException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine($"error: {MessageOf(ex)}");
            return BadInput;
        }
    }

    // ArgumentException appends " (Parameter 'name')" to its message: the name of a C# parameter means nothing to a
    // user of the command line, so it is cut.
    private static string MessageOf(Exception ex) =>
        ex is ArgumentException { ParamName: { } name } && ex.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal)
            ? ex.Message[..^$" (Parameter '{name}')".Length]
            : ex.Message;
}
