using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// The store's schema as an ordered list of migrations. A database records the highest one applied in
/// <c>PRAGMA user_version</c>; opening it applies the rest in one transaction each. Migrations are only ever appended,
/// and <see cref="PostgresSchema"/> appends the same change under the same number.
/// </summary>
internal static class SqliteSchema
{
    private static readonly string[] Migrations =
    [
        // 1: the fleet registry, budgets, datasets and transfers.
        """
        CREATE TABLE devices (
            fleet                    TEXT    NOT NULL,
            device_id                TEXT    NOT NULL,
            board                    TEXT,
            online                   INTEGER NOT NULL,
            last_seen_ms             INTEGER NOT NULL,
            free_flash_bytes         INTEGER,
            bytes_held               INTEGER NOT NULL,
            reported_budget_version  INTEGER,
            reported_budget_bytes    INTEGER,
            PRIMARY KEY (fleet, device_id)
        );
        CREATE TABLE held_shards (
            fleet            TEXT    NOT NULL,
            device_id        TEXT    NOT NULL,
            dataset          TEXT    NOT NULL,
            shard_id         INTEGER NOT NULL,
            manifest_version INTEGER NOT NULL,
            bytes            INTEGER NOT NULL,
            PRIMARY KEY (fleet, device_id, dataset, shard_id)
        );
        CREATE TABLE desired_budgets (
            fleet             TEXT    NOT NULL,
            device_id         TEXT    NOT NULL,
            version           INTEGER NOT NULL,
            bytes             INTEGER NOT NULL,
            updated_ms        INTEGER NOT NULL,
            published_version INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (fleet, device_id)
        );
        CREATE TABLE datasets (
            fleet            TEXT    NOT NULL,
            name             TEXT    NOT NULL,
            manifest_version INTEGER NOT NULL,
            published_ms     INTEGER NOT NULL,
            shard_directory  TEXT    NOT NULL,
            PRIMARY KEY (fleet, name)
        );
        CREATE TABLE dataset_shards (
            fleet        TEXT    NOT NULL,
            dataset      TEXT    NOT NULL,
            ordinal      INTEGER NOT NULL,
            shard_id     INTEGER NOT NULL,
            file_name    TEXT    NOT NULL,
            bytes        INTEGER NOT NULL,
            sha256       TEXT    NOT NULL,
            sample_count INTEGER NOT NULL,
            PRIMARY KEY (fleet, dataset, shard_id)
        );
        CREATE TABLE broadcasts (
            fleet            TEXT    NOT NULL,
            dataset          TEXT    NOT NULL,
            manifest_version INTEGER NOT NULL,
            started_ms       INTEGER NOT NULL,
            completed_ms     INTEGER NOT NULL,
            chunks           INTEGER NOT NULL,
            bytes_published  INTEGER NOT NULL,
            PRIMARY KEY (fleet, dataset, manifest_version)
        );
        CREATE TABLE repairs (
            fleet            TEXT    NOT NULL,
            device_id        TEXT    NOT NULL,
            dataset          TEXT    NOT NULL,
            manifest_version INTEGER NOT NULL,
            request_key      TEXT    NOT NULL,
            served_ms        INTEGER NOT NULL,
            chunks           INTEGER NOT NULL,
            bytes            INTEGER NOT NULL,
            PRIMARY KEY (fleet, device_id, request_key)
        );
        """,

        // 2: the signed manifest as published, so any coordinator sharing the store can serve repairs for it.
        """
        ALTER TABLE datasets ADD COLUMN signed_manifest BLOB;
        """,

        // 3: a claim on publishing a desired budget, so that of several coordinators one publishes each version.
        """
        ALTER TABLE desired_budgets ADD COLUMN publish_claim_owner TEXT;
        ALTER TABLE desired_budgets ADD COLUMN publish_claim_until_ms INTEGER NOT NULL DEFAULT 0;
        """,

        // 4: what a published thing is (dataset of shards or generator); rows published before read it from their
        // signed manifest, whose kind the signature covers.
        """
        ALTER TABLE datasets ADD COLUMN kind TEXT NOT NULL DEFAULT 'dataset';
        UPDATE datasets SET kind = 'generator'
        WHERE signed_manifest IS NOT NULL AND json_valid(CAST(signed_manifest AS TEXT))
          AND json_extract(CAST(signed_manifest AS TEXT), '$.manifest.kind') = 'generator';
        """,
    ];

    public static int LatestVersion => Migrations.Length;

    /// <summary>Brings the database up to <see cref="LatestVersion"/>; refuses a database written by a newer build.</summary>
    public static void Migrate(SqliteConnection connection, string path, int? targetVersion = null)
    {
        var target = targetVersion ?? Migrations.Length;
        var current = UserVersion(connection);
        if (current > Migrations.Length)
        {
            throw new FleetStoreException(
                $"{path}: the database has schema version {current}, newer than this build understands ({Migrations.Length}); upgrade dq-coordinator.");
        }

        for (var version = current + 1; version <= target; version++)
        {
            using var transaction = connection.BeginTransaction();
            using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = Migrations[version - 1];
                command.ExecuteNonQuery();
                command.CommandText = $"PRAGMA user_version = {version};";
                command.ExecuteNonQuery();
            }

            transaction.Commit();
        }
    }

    public static int UserVersion(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA user_version;";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}
