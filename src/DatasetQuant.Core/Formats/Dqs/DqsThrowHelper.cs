using System.Diagnostics.CodeAnalysis;

namespace DatasetQuant.Core.Formats.Dqs;

internal static class DqsThrowHelper
{
    [DoesNotReturn]
    public static void ThrowInvalidHeader(string path, string field, string message) =>
        throw new DqsFormatException(path, $"header.{field}", null, message);

    [DoesNotReturn]
    public static void ThrowInvalidFooter(string path, string field, string message) =>
        throw new DqsFormatException(path, $"footer.{field}", null, message);

    [DoesNotReturn]
    public static void ThrowInvalidIndex(string path, string message) =>
        throw new DqsFormatException(path, "index", null, message);

    [DoesNotReturn]
    public static void ThrowInvalidRecord(string path, int sample, string field, string message) =>
        throw new DqsFormatException(path, $"index.{field}", sample, message);

    [DoesNotReturn]
    public static void ThrowInvalidPayload(string path, int sample, string message) =>
        throw new DqsFormatException(path, "payload", sample, message);

    /// <summary>The file ends before what its header describes: the field at fault is the file's length (as dqs-py names it).</summary>
    [DoesNotReturn]
    public static void ThrowTruncated(string path, long length, long needed, string what) =>
        throw new DqsFormatException(path, "file.length", null, $"truncated: {what} needs {needed} bytes, the file has {length}.");
}
