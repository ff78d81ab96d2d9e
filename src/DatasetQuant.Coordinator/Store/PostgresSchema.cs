using Npgsql;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// The store's schema on PostgreSQL, migration for migration the same as <see cref="SqliteSchema"/> (number N is the
/// same change on both engines). The version applied is the one row of <c>schema_version</c>; each migration runs in
/// its own transaction while an advisory lock is held, so coordinators starting together apply it once and the others
/// wait.
/// Text keys use the "C" collation: rows sort byte by byte, as on SQLite, whatever the database's locale.
/// </summary>
internal static class PostgresSchema
{
    /// <summary>An arbitrary constant naming the advisory lock every dq-coordinator takes while migrating.</summary>
    private const long MigrationLock = 0x6471_666C_6565_7401; // "dqfleet" + 1

    private static readonly string[] Migrations =
    [
        // 1: the fleet registry, budgets, datasets and transfers.
        """
        CREATE TABLE devices (
            fleet                    TEXT COLLATE "C" NOT NULL,
            device_id                TEXT COLLATE "C" NOT NULL,
            board                    TEXT,
            online                   BOOLEAN NOT NULL,
            last_seen_ms             BIGINT  NOT NULL,
            free_flash_bytes         BIGINT,
            bytes_held               BIGINT  NOT NULL,
            reported_budget_version  BIGINT,
            reported_budget_bytes    BIGINT,
            PRIMARY KEY (fleet, device_id)
        );
        CREATE TABLE held_shards (
            fleet            TEXT COLLATE "C" NOT NULL,
            device_id        TEXT COLLATE "C" NOT NULL,
            dataset          TEXT COLLATE "C" NOT NULL,
            shard_id         INTEGER NOT NULL,
            manifest_version BIGINT  NOT NULL,
            bytes            BIGINT  NOT NULL,
            PRIMARY KEY (fleet, device_id, dataset, shard_id)
        );
        CREATE TABLE desired_budgets (
            fleet             TEXT COLLATE "C" NOT NULL,
            device_id         TEXT COLLATE "C" NOT NULL,
            version           BIGINT NOT NULL,
            bytes             BIGINT NOT NULL,
            updated_ms        BIGINT NOT NULL,
            published_version BIGINT NOT NULL DEFAULT 0,
            PRIMARY KEY (fleet, device_id)
        );
        CREATE TABLE datasets (
            fleet            TEXT COLLATE "C" NOT NULL,
            name             TEXT COLLATE "C" NOT NULL,
            manifest_version BIGINT NOT NULL,
            published_ms     BIGINT NOT NULL,
            shard_directory  TEXT   NOT NULL,
            PRIMARY KEY (fleet, name)
        );
        CREATE TABLE dataset_shards (
            fleet        TEXT COLLATE "C" NOT NULL,
            dataset      TEXT COLLATE "C" NOT NULL,
            ordinal      INTEGER NOT NULL,
            shard_id     INTEGER NOT NULL,
            file_name    TEXT    NOT NULL,
            bytes        BIGINT  NOT NULL,
            sha256       TEXT    NOT NULL,
            sample_count BIGINT  NOT NULL,
            PRIMARY KEY (fleet, dataset, shard_id)
        );
        CREATE TABLE broadcasts (
            fleet            TEXT COLLATE "C" NOT NULL,
            dataset          TEXT COLLATE "C" NOT NULL,
            manifest_version BIGINT NOT NULL,
            started_ms       BIGINT NOT NULL,
            completed_ms     BIGINT NOT NULL,
            chunks           BIGINT NOT NULL,
            bytes_published  BIGINT NOT NULL,
            PRIMARY KEY (fleet, dataset, manifest_version)
        );
        CREATE TABLE repairs (
            fleet            TEXT COLLATE "C" NOT NULL,
            device_id        TEXT COLLATE "C" NOT NULL,
            dataset          TEXT COLLATE "C" NOT NULL,
            manifest_version BIGINT NOT NULL,
            request_key      TEXT COLLATE "C" NOT NULL,
            served_ms        BIGINT NOT NULL,
            chunks           BIGINT NOT NULL,
            bytes            BIGINT NOT NULL,
            PRIMARY KEY (fleet, device_id, request_key)
        );
        """,

        // 2: the signed manifest as published, so any coordinator sharing the store can serve repairs for it.
        """
        ALTER TABLE datasets ADD COLUMN signed_manifest BYTEA;
        """,

        // 3: a claim on publishing a desired budget, so that of several coordinators one publishes each version.
        """
        ALTER TABLE desired_budgets ADD COLUMN publish_claim_owner TEXT COLLATE "C";
        ALTER TABLE desired_budgets ADD COLUMN publish_claim_until_ms BIGINT NOT NULL DEFAULT 0;
        """,

        // 4: what a published thing is (dataset of shards or generator); rows published before read it from their
        // signed manifest, whose kind the signature covers (matched as text: a malformed blob must not stop the upgrade).
        """
        ALTER TABLE datasets ADD COLUMN kind TEXT NOT NULL DEFAULT 'dataset';
        UPDATE datasets SET kind = 'generator'
        WHERE signed_manifest IS NOT NULL AND encode(signed_manifest, 'escape') ~ '"kind"\s*:\s*"generator"';
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    /// <summary>Brings the database up to <see cref="LatestVersion"/>; refuses a database written by a newer build.</summary>
    /// <remarks>
    /// A database already current is only read, so a role without CREATE rights can use it. With
    /// <paramref name="createIfMissing"/> false, a database without the schema is refused instead of set up.
    /// </remarks>
    public static async Task MigrateAsync(
        NpgsqlDataSource dataSource, string location, bool createIfMissing = true, int? targetVersion = null, CancellationToken cancellationToken = default)
    {
        var target = targetVersion ?? Migrations.Length;
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        var current = await ReadVersionAsync(connection, null, cancellationToken);
        if (!createIfMissing && current == 0)
        {
            throw new FleetStoreException($"{location}: no fleet schema in this database (dq-coordinator serve --db creates it).");
        }

        CheckNotNewer(current, location);
        if (current >= target)
        {
            return;
        }

        // A session lock taken before the migrations' transactions begin: each transaction then starts after whoever
        // held the lock committed, and sees the tables it made.
        await ExecuteAsync(connection, null, $"SELECT pg_advisory_lock({MigrationLock});", cancellationToken);
        try
        {
            while (true)
            {
                await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
                current = await ReadVersionAsync(connection, transaction, cancellationToken);
                CheckNotNewer(current, location);
                if (current >= target)
                {
                    await transaction.CommitAsync(cancellationToken);
                    return;
                }

                await ExecuteAsync(connection, transaction, "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);", cancellationToken);
                await ExecuteAsync(connection, transaction, Migrations[current], cancellationToken);
                await ExecuteAsync(connection, transaction, $"DELETE FROM schema_version; INSERT INTO schema_version VALUES ({current + 1});", cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }
        }
        finally
        {
            await ExecuteAsync(connection, null, $"SELECT pg_advisory_unlock({MigrationLock});", CancellationToken.None);
        }
    }

    private static void CheckNotNewer(int current, string location)
    {
        if (current > Migrations.Length)
        {
            throw new FleetStoreException(
                $"{location}: the database has schema version {current}, newer than this build understands ({Migrations.Length}); upgrade dq-coordinator.");
        }
    }

    /// <summary>The version recorded (0 for a database no coordinator has used).</summary>
    public static async Task<int> ReadVersionAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass('schema_version') IS NOT NULL;", connection, transaction);
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
        {
            return 0;
        }

        command.CommandText = "SELECT COALESCE(MAX(version), 0) FROM schema_version;";
        return Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection, transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
