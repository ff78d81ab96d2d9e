namespace DatasetQuant.Sync.Messages;

/// <summary>
/// The <c>schema</c> field every JSON message carries. A receiver accepts exactly the versions it knows; properties it
/// does not know are ignored, so fields may be added without a new schema, while a change of meaning needs one.
/// </summary>
public static class SyncSchema
{
    public const int Current = 1;
}

/// <summary>A message that can say what is wrong with it after it was parsed (missing field, bad range, bad name).</summary>
public interface ISyncMessage
{
    int Schema { get; }

    /// <summary>Null when the message is well formed; otherwise what is wrong, naming the field.</summary>
    string? Validate();
}

internal static class MessageRules
{
    public static string? Schema(int schema) =>
        schema == SyncSchema.Current ? null : $"field 'schema' is {schema}: not supported (this build speaks schema {SyncSchema.Current})";

    public static string? Name(string? value, string field) =>
        SyncNames.IsValid(value) ? null : $"field '{field}' is missing or not a valid name ('{value}')";

    public static string? NonNegative(long value, string field) =>
        value >= 0 ? null : $"field '{field}' is negative ({value})";
}
