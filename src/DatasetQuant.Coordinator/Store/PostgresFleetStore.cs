using System.Data.Common;
using Npgsql;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// The fleet store in a PostgreSQL database, for several coordinators sharing one fleet. The statements are
/// <see cref="SqlFleetStore"/>'s, the same as SQLite's; this class holds the connection pool and keeps the schema
/// (<see cref="PostgresSchema"/>). Statements run at READ COMMITTED: each write is one conditional statement, or a
/// transaction that starts with the row lock of the one device or dataset it changes.
/// </summary>
public sealed class PostgresFleetStore : SqlFleetStore
{
    private readonly NpgsqlDataSource _dataSource;

    private PostgresFleetStore(NpgsqlDataSource dataSource, string location)
    {
        _dataSource = dataSource;
        Location = location;
    }

    /// <summary>The database as a URL without its password.</summary>
    public override string Location { get; }

    /// <summary>
    /// Connects to the database of <paramref name="url"/> and applies any pending migrations (with
    /// <paramref name="createIfMissing"/> false, a database without the schema is refused instead).
    /// </summary>
    public static async Task<PostgresFleetStore> OpenAsync(string url, bool createIfMissing = true, CancellationToken cancellationToken = default)
    {
        PostgresUrl parsed;
        try
        {
            parsed = PostgresUrl.Parse(url);
        }
        catch (ArgumentException ex)
        {
            throw new FleetStoreException(ex.Message, ex);
        }

        var dataSource = NpgsqlDataSource.Create(parsed.Settings);
        try
        {
            await PostgresSchema.MigrateAsync(dataSource, parsed.Display, createIfMissing, cancellationToken: cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or FleetStoreException or TimeoutException)
        {
            await dataSource.DisposeAsync();
            throw ex as FleetStoreException ?? new FleetStoreException($"{parsed.Display}: cannot open the fleet database: {ex.Message}", ex);
        }

        return new PostgresFleetStore(dataSource, parsed.Display);
    }

    public override ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken) =>
        await _dataSource.OpenConnectionAsync(cancellationToken);
}
