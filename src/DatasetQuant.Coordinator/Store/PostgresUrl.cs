using Npgsql;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// <c>postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?KEY=VALUE&amp;...]</c> (also <c>postgresql://</c>) as Npgsql
/// connection settings. Query keys are Npgsql's connection-string keywords (<c>sslmode=require</c>,
/// <c>search_path=dq</c>, <c>timeout=5</c>). A password is better kept out of the URL, where it shows in process lists:
/// Npgsql also reads <c>PGPASSWORD</c> and <c>~/.pgpass</c> (or <c>PGPASSFILE</c>), as libpq does.
/// </summary>
public sealed class PostgresUrl
{
    private PostgresUrl(NpgsqlConnectionStringBuilder settings, string display)
    {
        Settings = settings;
        Display = display;
    }

    public NpgsqlConnectionStringBuilder Settings { get; }

    /// <summary>The URL as it may be shown and logged: the password, if any, left out.</summary>
    public string Display { get; }

    public static bool IsPostgresUrl(string? database) =>
        database is not null
        && (database.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) || database.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads <paramref name="url"/>; throws <see cref="ArgumentException"/> naming the part that is wrong.</summary>
    public static PostgresUrl Parse(string url)
    {
        if (!IsPostgresUrl(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri))
        {
            throw new ArgumentException($"'{Redact(url)}' is not a URL of the form postgres://USER@HOST:PORT/DATABASE.");
        }

        if (string.IsNullOrEmpty(uri.Host))
        {
            throw new ArgumentException($"'{Redact(url)}' names no host.");
        }

        var database = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (database.Length == 0 || database.Contains('/', StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{Redact(url)}' names no database (postgres://USER@HOST:PORT/DATABASE).");
        }

        var settings = new NpgsqlConnectionStringBuilder
        {
            Host = uri.IdnHost,
            Port = uri.IsDefaultPort || uri.Port < 0 ? 5432 : uri.Port,
            Database = database,
            ApplicationName = "dq-coordinator",
        };
        var user = "";
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            settings.Username = user;
            if (colon >= 0)
            {
                settings.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
            }
        }

        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var key = Uri.UnescapeDataString(equals < 0 ? pair : pair[..equals]);
            var value = equals < 0 ? "" : Uri.UnescapeDataString(pair[(equals + 1)..].Replace('+', ' '));
            try
            {
                settings[key.Replace('_', ' ')] = value;
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"'{Redact(url)}': query parameter '{key}' is not an Npgsql connection setting ({ex.Message}).", ex);
            }
        }

        var host = uri.HostNameType == UriHostNameType.IPv6 ? $"[{uri.IdnHost}]" : uri.IdnHost;
        var display = $"postgres://{(user.Length > 0 ? Uri.EscapeDataString(user) + "@" : "")}{host}:{settings.Port}/{Uri.EscapeDataString(database)}";
        return new PostgresUrl(settings, display);
    }

    /// <summary>The URL with any password replaced, for error messages about a URL that did not parse.</summary>
    private static string Redact(string url)
    {
        var at = url.IndexOf('@', StringComparison.Ordinal);
        var scheme = url.IndexOf("://", StringComparison.Ordinal);
        if (at < 0 || scheme < 0 || at < scheme)
        {
            return url;
        }

        var colon = url.IndexOf(':', scheme + 3);
        return colon >= 0 && colon < at ? url[..colon] + ":***" + url[at..] : url;
    }
}
