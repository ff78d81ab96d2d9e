namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// What <c>--db</c> names: a PostgreSQL database (<c>postgres://USER@HOST:PORT/DB</c>, see <see cref="PostgresUrl"/>)
/// or, for anything else, a SQLite file — the embedded default.
/// </summary>
public static class FleetDatabase
{
    public static bool IsPostgres(string database) => PostgresUrl.IsPostgresUrl(database);

    /// <summary>Opens the store <paramref name="database"/> names; throws <see cref="FleetStoreException"/> naming it when it cannot.</summary>
    public static async Task<SqlFleetStore> OpenAsync(string database, bool createIfMissing = true, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(database);
        return IsPostgres(database)
            ? await PostgresFleetStore.OpenAsync(database, createIfMissing, cancellationToken)
            : SqliteFleetStore.Open(database, createIfMissing);
    }

    /// <summary>
    /// A problem with <paramref name="database"/> that shows before connecting (a malformed URL, a missing folder or,
    /// with <paramref name="mustExist"/>, a missing file), or null.
    /// </summary>
    public static string? Problem(string? database, bool mustExist)
    {
        if (string.IsNullOrWhiteSpace(database))
        {
            return "the database is empty.";
        }

        if (IsPostgres(database))
        {
            try
            {
                PostgresUrl.Parse(database);
                return null;
            }
            catch (ArgumentException ex)
            {
                return ex.Message;
            }
        }

        if (mustExist && !File.Exists(database))
        {
            return $"no database at '{database}'.";
        }

        var folder = Path.GetDirectoryName(Path.GetFullPath(database));
        return folder is not null && !Directory.Exists(folder) ? $"the folder of '{database}' does not exist." : null;
    }
}
