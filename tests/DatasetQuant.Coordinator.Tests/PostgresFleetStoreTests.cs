using DatasetQuant.Coordinator.Store;
using DatasetQuant.Testing;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>One PostgreSQL server for every test of the collection; each test class instance gets a database of its own.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSQL";
}

/// <summary>The store contract on a real PostgreSQL (Debian's, started by the fixture), and what only a server can get wrong.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresFleetStoreTests(PostgresFixture postgres) : FleetStoreContractTests
{
    private string _url = "";

    private PostgresServer Server => postgres.Server;

    protected override async Task<SqlFleetStore> CreateDatabaseAsync()
    {
        _url = await Server.CreateDatabaseAsync();
        return await PostgresFleetStore.OpenAsync(_url);
    }

    protected override async Task<SqlFleetStore> OpenSameDatabaseAsync() => await PostgresFleetStore.OpenAsync(_url, createIfMissing: false);

    private string Database => _url[(_url.LastIndexOf('/') + 1)..];

    [Fact]
    public async Task The_schema_is_versioned_like_sqlite_and_a_newer_one_is_refused()
    {
        Assert.Equal($"{PostgresSchema.LatestVersion}", (await Server.QueryAsync(Database, "SELECT version FROM schema_version;")).Trim());
        Assert.Equal(SqliteSchema.LatestVersion, PostgresSchema.LatestVersion);

        await Server.QueryAsync(Database, "UPDATE schema_version SET version = 999;");
        var ex = await Assert.ThrowsAsync<FleetStoreException>(() => PostgresFleetStore.OpenAsync(_url));
        Assert.Contains("schema version 999", ex.Message);
        Assert.Contains(_url, ex.Message);
    }

    [Fact]
    public async Task A_version_1_database_is_migrated_and_keeps_its_rows()
    {
        var url = await Server.CreateDatabaseAsync();
        var name = url[(url.LastIndexOf('/') + 1)..];
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(PostgresUrl.Parse(url).Settings))
        {
            await PostgresSchema.MigrateAsync(dataSource, url, targetVersion: 1);
        }

        await Server.QueryAsync(name, "INSERT INTO datasets VALUES ('lab', 'old', 4, 0, '/srv/old'); INSERT INTO desired_budgets VALUES ('lab', 'pi-1', 3, 1000, 0, 2);");
        await using var store = await PostgresFleetStore.OpenAsync(url);
        var dataset = await store.GetDatasetAsync("lab", "old");
        Assert.Equal(4, dataset!.ManifestVersion);
        Assert.Null(dataset.SignedManifest);
        Assert.Equal(3, (await store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", DateTimeOffset.UtcNow, TimeSpan.FromSeconds(1), republish: false))!.Version);
        Assert.Equal($"{PostgresSchema.LatestVersion}", (await Server.QueryAsync(name, "SELECT version FROM schema_version;")).Trim());
    }

    [Fact]
    public async Task A_version_3_database_learns_the_kind_of_each_published_row_from_its_signed_manifest()
    {
        var url = await Server.CreateDatabaseAsync();
        var name = url[(url.LastIndexOf('/') + 1)..];
        await using (var dataSource = Npgsql.NpgsqlDataSource.Create(PostgresUrl.Parse(url).Settings))
        {
            await PostgresSchema.MigrateAsync(dataSource, url, targetVersion: 3);
            await using var command = dataSource.CreateCommand("""
                INSERT INTO datasets (fleet, name, manifest_version, published_ms, shard_directory, signed_manifest) VALUES
                    ('lab', 'gen', 2, 0, '/g', @generator), ('lab', 'shards', 5, 0, '/s', @shards),
                    ('lab', 'unsigned', 1, 0, '/u', NULL), ('lab', 'garbled', 1, 0, '/b', @garbled);
                """);
            command.Parameters.AddWithValue("generator", SignedManifestOfKind("generator"));
            command.Parameters.AddWithValue("shards", SignedManifestOfKind("shards"));
            command.Parameters.AddWithValue("garbled", new byte[] { 0xff, 0x00, 0x7b });
            await command.ExecuteNonQueryAsync();
        }

        await using var store = await PostgresFleetStore.OpenAsync(url);
        Assert.Equal(
            [("garbled", DatasetKinds.Dataset), ("gen", DatasetKinds.Generator), ("shards", DatasetKinds.Dataset), ("unsigned", DatasetKinds.Dataset)],
            (await store.ListDatasetsAsync("lab")).Select(d => (d.Name, d.Kind)));
        Assert.Equal($"{PostgresSchema.LatestVersion}", (await Server.QueryAsync(name, "SELECT version FROM schema_version;")).Trim());
    }

    [Fact]
    public async Task Coordinators_starting_together_migrate_once()
    {
        var url = await Server.CreateDatabaseAsync();
        var stores = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => PostgresFleetStore.OpenAsync(url)));
        await Task.WhenAll(stores.Select(s => s.RecordDeviceReportAsync(new DeviceReport("lab", "pi-1", T0, null, 1, 1, []))));
        Assert.Equal($"{PostgresSchema.LatestVersion}", (await Server.QueryAsync(url[(url.LastIndexOf('/') + 1)..], "SELECT string_agg(version::text, ',') FROM schema_version;")).Trim());
        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }

    [Fact]
    public async Task Status_on_a_database_without_the_schema_is_refused_and_creates_nothing()
    {
        var url = await Server.CreateDatabaseAsync();
        var ex = await Assert.ThrowsAsync<FleetStoreException>(() => PostgresFleetStore.OpenAsync(url, createIfMissing: false));
        Assert.Contains("no fleet schema", ex.Message);
        Assert.Equal("", (await Server.QueryAsync(url[(url.LastIndexOf('/') + 1)..], "SELECT to_regclass('schema_version');")).Trim());
    }

    [Fact]
    public async Task A_server_that_is_not_there_gives_an_error_naming_the_url_without_its_password()
    {
        var port = MosquittoBroker.FreeLoopbackPort();
        var ex = await Assert.ThrowsAsync<FleetStoreException>(() => PostgresFleetStore.OpenAsync($"postgres://dq:s3cret@127.0.0.1:{port}/fleet?timeout=3"));
        Assert.Contains($"postgres://dq@127.0.0.1:{port}/fleet", ex.Message);
        Assert.DoesNotContain("s3cret", ex.Message);
    }

    [Fact]
    public async Task A_missing_database_or_wrong_user_is_named()
    {
        var missing = await Assert.ThrowsAsync<FleetStoreException>(() => PostgresFleetStore.OpenAsync(Server.Url("nope")));
        Assert.Contains(Server.Url("nope"), missing.Message);
        Assert.Contains("nope", missing.Message[Server.Url("nope").Length..]);
    }

    [Fact]
    public async Task A_store_error_while_running_is_a_fleet_store_exception_naming_the_database()
    {
        await Server.QueryAsync(Database, "DROP TABLE repairs;");
        var ex = await Assert.ThrowsAsync<FleetStoreException>(() => Store.ListRepairTotalsAsync("lab"));
        Assert.Contains(_url, ex.Message);
        Assert.Contains("repairs", ex.Message);
    }
}
