using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// The fleet store in one SQLite file (WAL, synchronous=FULL): the embedded default, for one coordinator or several
/// processes on one host. The statements are <see cref="SqlFleetStore"/>'s; this class opens the file and keeps its
/// schema (<see cref="SqliteSchema"/>).
/// </summary>
public sealed class SqliteFleetStore : SqlFleetStore
{
    private readonly string _connectionString;

    private SqliteFleetStore(string path, string connectionString)
    {
        Path = path;
        _connectionString = connectionString;
    }

    /// <summary>The database file.</summary>
    public string Path { get; }

    public override string Location => Path;

    /// <summary>
    /// Opens (and with <paramref name="createIfMissing"/>, creates) the database at <paramref name="path"/> and
    /// applies any pending migrations.
    /// </summary>
    public static SqliteFleetStore Open(string path, bool createIfMissing = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var fullPath = System.IO.Path.GetFullPath(path);
        if (!createIfMissing && !File.Exists(fullPath))
        {
            throw new FleetStoreException($"{fullPath}: no fleet database here (dq-coordinator serve --db creates one).");
        }

        var directory = System.IO.Path.GetDirectoryName(fullPath);
        if (directory is not null && !Directory.Exists(directory))
        {
            throw new FleetStoreException($"{fullPath}: the folder {directory} does not exist.");
        }

        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = fullPath,
            Mode = createIfMissing ? SqliteOpenMode.ReadWriteCreate : SqliteOpenMode.ReadWrite,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString();
        var store = new SqliteFleetStore(fullPath, connectionString);
        try
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using (var pragma = connection.CreateCommand())
            {
                pragma.CommandText = "PRAGMA journal_mode = WAL;";
                pragma.ExecuteNonQuery();
            }

            SqliteSchema.Migrate(connection, fullPath);
        }
        catch (SqliteException ex)
        {
            throw new FleetStoreException($"{fullPath}: cannot open the fleet database: {ex.Message}", ex);
        }

        return store;
    }

    public override ValueTask DisposeAsync()
    {
        // Pooled connections keep the file open (and the WAL un-checkpointed) until the pool lets go of them.
        using var connection = new SqliteConnection(_connectionString);
        SqliteConnection.ClearPool(connection);
        return ValueTask.CompletedTask;
    }

    protected override async ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        try
        {
            await connection.OpenAsync(cancellationToken);
            using var pragma = connection.CreateCommand();
            pragma.CommandText = "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000;";
            await pragma.ExecuteNonQueryAsync(cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
