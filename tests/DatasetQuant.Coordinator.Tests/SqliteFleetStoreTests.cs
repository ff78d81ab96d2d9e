using DatasetQuant.Coordinator.Store;
using DatasetQuant.Testing;
using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>The store contract on a SQLite file, and what only a file can get wrong.</summary>
public sealed class SqliteFleetStoreTests : FleetStoreContractTests
{
    private readonly TempDirectory _dir = new("fleetstore");

    private string DbPath => _dir.File("fleet.db");

    protected override Task<SqlFleetStore> CreateDatabaseAsync() => Task.FromResult<SqlFleetStore>(SqliteFleetStore.Open(DbPath));

    protected override Task<SqlFleetStore> OpenSameDatabaseAsync() => Task.FromResult<SqlFleetStore>(SqliteFleetStore.Open(DbPath, createIfMissing: false));

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public void Opening_a_missing_database_without_create_names_the_file()
    {
        var path = _dir.File("absent.db");
        var ex = Assert.Throws<FleetStoreException>(() => SqliteFleetStore.Open(path, createIfMissing: false));
        Assert.Contains(path, ex.Message);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public async Task A_database_from_a_newer_schema_is_refused()
    {
        var path = _dir.File("future.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA user_version = 999;";
            command.ExecuteNonQuery();
        }

        var ex = Assert.Throws<FleetStoreException>(() => SqliteFleetStore.Open(path));
        Assert.Contains("schema version 999", ex.Message);
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_gives_a_clear_error()
    {
        var path = _dir.File("garbage.db");
        await File.WriteAllBytesAsync(path, Enumerable.Range(0, 4096).Select(i => (byte)(i * 7)).ToArray());
        var ex = Assert.Throws<FleetStoreException>(() => SqliteFleetStore.Open(path));
        Assert.Contains(path, ex.Message);
    }

    [Fact]
    public async Task A_version_1_database_is_migrated_and_keeps_its_rows()
    {
        var path = _dir.File("v1.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            SqliteSchema.Migrate(connection, path, targetVersion: 1);
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO datasets VALUES ('lab', 'old', 4, 0, '/srv/old');
                INSERT INTO desired_budgets VALUES ('lab', 'pi-1', 3, 1000, 0, 2);
                """;
            command.ExecuteNonQuery();
        }

        await using var store = SqliteFleetStore.Open(path);
        var dataset = await store.GetDatasetAsync("lab", "old");
        Assert.Equal(4, dataset!.ManifestVersion);
        Assert.Null(dataset.SignedManifest);
        Assert.Equal(3, (await store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1), republish: false))!.Version);
        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        Assert.Equal(SqliteSchema.LatestVersion, SqliteSchema.UserVersion(check));
    }

    [Fact]
    public async Task A_version_3_database_learns_the_kind_of_each_published_row_from_its_signed_manifest()
    {
        var path = _dir.File("v3.db");
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            SqliteSchema.Migrate(connection, path, targetVersion: 3);
            using var command = connection.CreateCommand();
            command.CommandText = """
                INSERT INTO datasets (fleet, name, manifest_version, published_ms, shard_directory, signed_manifest) VALUES
                    ('lab', 'gen', 2, 0, '/g', @generator), ('lab', 'shards', 5, 0, '/s', @shards),
                    ('lab', 'unsigned', 1, 0, '/u', NULL), ('lab', 'garbled', 1, 0, '/b', @garbled);
                """;
            command.Parameters.AddWithValue("@generator", SignedManifestOfKind("generator"));
            command.Parameters.AddWithValue("@shards", SignedManifestOfKind("shards"));
            command.Parameters.AddWithValue("@garbled", new byte[] { 0xff, 0x00, 0x7b });
            command.ExecuteNonQuery();
        }

        await using var store = SqliteFleetStore.Open(path);
        Assert.Equal(
            [("garbled", DatasetKinds.Dataset), ("gen", DatasetKinds.Generator), ("shards", DatasetKinds.Dataset), ("unsigned", DatasetKinds.Dataset)],
            (await store.ListDatasetsAsync("lab")).Select(d => (d.Name, d.Kind)));
        Assert.Equal(2, (await store.GetDatasetAsync("lab", "gen"))!.ManifestVersion);
    }

    [Fact]
    public async Task A_store_error_while_running_is_a_fleet_store_exception_naming_the_file()
    {
        await using (var connection = new SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "DROP TABLE repairs;";
            command.ExecuteNonQuery();
        }

        var ex = await Assert.ThrowsAsync<FleetStoreException>(() => Store.ListRepairTotalsAsync("lab"));
        Assert.Contains(DbPath, ex.Message);
        Assert.Contains("repairs", ex.Message);
    }
}
