namespace DatasetQuant.Sync;

/// <summary>
/// Fleet, device, dataset and shard names. They become topic levels and file names, so they are confined to
/// <c>[A-Za-z0-9._-]</c>, 1..64 characters, and may not start with a dot: no MQTT wildcard, no separator, no
/// path traversal, and no escaping needed in the signed canonical form.
/// </summary>
public static class SyncNames
{
    public const int MaxLength = 64;

    public static bool IsValid(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxLength || name[0] == '.')
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws an <see cref="ArgumentException"/> naming <paramref name="what"/> when the name is not valid.</summary>
    public static string Require(string? name, string what)
    {
        if (!IsValid(name))
        {
            throw new ArgumentException(
                $"{what} '{name}' is not a valid name: use 1..{MaxLength} characters of A-Z a-z 0-9 . _ - (not starting with '.').",
                what);
        }

        return name!;
    }
}
