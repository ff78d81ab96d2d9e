namespace DatasetQuant.Core.Formats.Dqs;

/// <summary>
/// A .dqs shard is malformed, damaged or truncated. The message names the file and, where it applies, the field or the
/// sample at fault. Readers and the verifier throw this type and no other for bad data.
/// </summary>
public sealed class DqsFormatException : IOException
{
    public DqsFormatException(string filePath, string? field, int? sample, string message)
        : base(Compose(filePath, field, sample, message))
    {
        FilePath = filePath;
        Field = field;
        Sample = sample;
    }

    public string FilePath { get; }

    /// <summary>The header, index, footer or payload field at fault, if one is.</summary>
    public string? Field { get; }

    /// <summary>The sample (index within the shard) at fault, if one is.</summary>
    public int? Sample { get; }

    private static string Compose(string filePath, string? field, int? sample, string message)
    {
        var where = (field, sample) switch
        {
            (not null, not null) => $" sample {sample}, {field}:",
            (null, not null) => $" sample {sample}:",
            (not null, null) => $" {field}:",
            _ => string.Empty,
        };
        return $"{filePath}:{where} {message}";
    }
}
