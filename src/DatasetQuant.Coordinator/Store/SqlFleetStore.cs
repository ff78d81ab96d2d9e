using System.Data;
using System.Data.Common;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// <see cref="IFleetStore"/> written once in the SQL that SQLite and PostgreSQL both run: every write is a single
/// conditional statement or one transaction, so a message applied twice or out of order leaves the same rows behind,
/// and several coordinators on one PostgreSQL database never produce two versions of one thing. The engines differ
/// only in how a connection is opened and the schema created (<see cref="SqliteFleetStore"/>,
/// <see cref="PostgresFleetStore"/>); the statements avoid what one of them lacks (<c>MAX(a, b)</c>, <c>INSERT OR</c>,
/// <c>GREATEST</c>) and use <c>@name</c> parameters, which both accept. Times are Unix milliseconds in BIGINT columns
/// so that comparisons are exact and identical on both.
/// </summary>
public abstract partial class SqlFleetStore : IFleetStore
{
    /// <summary>Where the store is, for messages: a file path, or a PostgreSQL URL without its password.</summary>
    public abstract string Location { get; }

    public abstract ValueTask DisposeAsync();

    /// <summary>An open connection, ready for statements (per-connection settings applied).</summary>
    protected abstract ValueTask<DbConnection> OpenConnectionAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Runs <paramref name="work"/> on a connection of its own and turns any database error into a
    /// <see cref="FleetStoreException"/> naming the store, so callers handle one exception type whatever the engine.
    /// </summary>
    private protected async Task<T> RunAsync<T>(Func<DbConnection, Task<T>> work, CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = await OpenConnectionAsync(cancellationToken);
            return await work(connection);
        }
        catch (DbException ex)
        {
            throw new FleetStoreException($"{Location}: {ex.Message}", ex);
        }
    }

    /// <summary>Like <see cref="RunAsync{T}"/>, inside one transaction that commits when <paramref name="work"/> returns.</summary>
    private protected Task<T> RunInTransactionAsync<T>(Func<DbConnection, DbTransaction, Task<T>> work, CancellationToken cancellationToken) =>
        RunAsync(async connection =>
        {
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var result = await work(connection, transaction);
            await transaction.CommitAsync(cancellationToken);
            return result;
        }, cancellationToken);

    private protected static DbCommand Command(DbConnection connection, string sql, DbTransaction? transaction = null)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Transaction = transaction;
        return command;
    }

    /// <summary>Adds <c>@name</c> with an explicit type, so that a null still tells PostgreSQL what it is.</summary>
    private protected static DbParameter Parameter(DbCommand command, string name, DbType type, object? value = null)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.DbType = type;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
        return parameter;
    }

    private protected static DbParameter Text(DbCommand command, string name, string? value = null) => Parameter(command, name, DbType.String, value);

    private protected static DbParameter Int64(DbCommand command, string name, long? value = null) => Parameter(command, name, DbType.Int64, value);

    private protected static DbParameter Int32(DbCommand command, string name, int? value = null) => Parameter(command, name, DbType.Int32, value);

    private protected static long ToMs(DateTimeOffset at) => at.ToUnixTimeMilliseconds();

    private protected static DateTimeOffset FromMs(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);

    private protected static long? NullableInt64(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);

    private protected static string? NullableString(DbDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private protected static async Task<List<T>> ReadAllAsync<T>(DbCommand command, Func<DbDataReader, T> read, CancellationToken cancellationToken)
    {
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            rows.Add(read(reader));
        }

        return rows;
    }
}
