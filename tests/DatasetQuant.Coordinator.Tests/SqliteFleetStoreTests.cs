using DatasetQuant.Coordinator.Store;
using DatasetQuant.Testing;
using Microsoft.Data.Sqlite;

namespace DatasetQuant.Coordinator.Tests;

public sealed class SqliteFleetStoreTests : IAsyncLifetime
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);
    private readonly TempDirectory _dir = new("fleetstore");
    private SqliteFleetStore _store = null!;

    private string DbPath => _dir.File("fleet.db");

    public Task InitializeAsync()
    {
        _store = SqliteFleetStore.Open(DbPath);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private static DeviceReport Report(string id, DateTimeOffset at, long free, long held, params HeldShard[] shards) =>
        new("lab", id, at, "rpi-4", free, held, shards);

    [Fact]
    public async Task Device_report_is_recorded_with_its_shards()
    {
        Assert.True(await _store.RecordDeviceReportAsync(Report("pi-1", T0, 900_000, 100_000,
            new HeldShard("fmnist", 0, 3, 60_000), new HeldShard("fmnist", 1, 3, 40_000))));

        var device = await _store.GetDeviceAsync("lab", "pi-1");
        Assert.NotNull(device);
        Assert.True(device.Online);
        Assert.Equal(900_000, device.FreeFlashBytes);
        Assert.Equal(100_000, device.BytesHeld);
        Assert.Equal(2, device.ShardsHeld);
        Assert.Equal(T0, device.LastSeen);
        Assert.Equal("rpi-4", device.Board);
        var shards = await _store.ListHeldShardsAsync("lab", "pi-1");
        Assert.Equal([0, 1], shards.Select(s => s.ShardId));
    }

    [Fact]
    public async Task Older_report_after_newer_changes_nothing_and_redelivery_is_harmless()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(10), 500, 50, new HeldShard("d", 0, 1, 50)));
        Assert.False(await _store.RecordDeviceReportAsync(Report("pi-1", T0, 999, 999)));
        Assert.True(await _store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(10), 500, 50, new HeldShard("d", 0, 1, 50))));

        var device = await _store.GetDeviceAsync("lab", "pi-1");
        Assert.Equal(500, device!.FreeFlashBytes);
        Assert.Equal(1, device.ShardsHeld);
    }

    [Fact]
    public async Task A_new_report_replaces_the_shards_held()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0, 1, 2, new HeldShard("d", 0, 1, 1), new HeldShard("d", 1, 1, 1)));
        await _store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(1), 1, 1, new HeldShard("d", 1, 2, 1)));
        var shards = await _store.ListHeldShardsAsync("lab", "pi-1");
        Assert.Equal(new HeldShard("d", 1, 2, 1), Assert.Single(shards));
    }

    [Fact]
    public async Task Offline_applies_only_when_not_older_than_last_report()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(5), 1, 1));
        Assert.False(await _store.RecordDeviceOfflineAsync("lab", "pi-1", T0));
        Assert.True((await _store.GetDeviceAsync("lab", "pi-1"))!.Online);
        Assert.True(await _store.RecordDeviceOfflineAsync("lab", "pi-1", T0.AddSeconds(6)));
        Assert.False((await _store.GetDeviceAsync("lab", "pi-1"))!.Online);
        Assert.False(await _store.RecordDeviceOfflineAsync("lab", "unknown", T0));
    }

    [Fact]
    public async Task Desired_budget_versions_only_go_up_and_only_on_change()
    {
        var first = await _store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0);
        Assert.Equal(1, first.Version);
        Assert.False(first.IsPublished);

        var same = await _store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0.AddSeconds(1));
        Assert.Equal(1, same.Version);
        Assert.Equal(T0, same.UpdatedAt);

        var lower = await _store.SetDesiredBudgetAsync("lab", "pi-1", 600, T0.AddSeconds(2));
        Assert.Equal(2, lower.Version);
        Assert.Equal(600, lower.Bytes);

        var back = await _store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0.AddSeconds(3));
        Assert.Equal(3, back.Version);
    }

    [Fact]
    public async Task Desired_budget_version_starts_above_what_the_device_reported()
    {
        // A coordinator over a fresh database must not hand out version 1 to a device that applied version 41.
        Assert.True(await _store.RecordReportedBudgetAsync("lab", "pi-1", 41, 5000));
        var budget = await _store.SetDesiredBudgetAsync("lab", "pi-1", 4000, T0);
        Assert.Equal(42, budget.Version);
    }

    [Fact]
    public async Task Reported_budget_ignores_lower_versions()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0, 1, 1));
        Assert.True(await _store.RecordReportedBudgetAsync("lab", "pi-1", 5, 500));
        Assert.False(await _store.RecordReportedBudgetAsync("lab", "pi-1", 4, 400));
        Assert.True(await _store.RecordReportedBudgetAsync("lab", "pi-1", 5, 500));
        var device = await _store.GetDeviceAsync("lab", "pi-1");
        Assert.Equal(5, device!.ReportedBudgetVersion);
        Assert.Equal(500, device.ReportedBudgetBytes);
        Assert.True(device.Online);
    }

    [Fact]
    public async Task Unpublished_budgets_form_an_outbox_that_marking_empties()
    {
        await _store.SetDesiredBudgetAsync("lab", "a", 1, T0);
        await _store.SetDesiredBudgetAsync("lab", "b", 2, T0);
        await _store.SetDesiredBudgetAsync("other", "c", 3, T0);
        Assert.Equal(["a", "b"], (await _store.ListUnpublishedBudgetsAsync("lab")).Select(b => b.DeviceId));

        await _store.MarkBudgetPublishedAsync("lab", "a", 1);
        var b = await _store.SetDesiredBudgetAsync("lab", "b", 20, T0);
        await _store.MarkBudgetPublishedAsync("lab", "b", 1);
        Assert.Equal([("b", 2L)], (await _store.ListUnpublishedBudgetsAsync("lab")).Select(x => (x.DeviceId, x.Version)));

        await _store.MarkBudgetPublishedAsync("lab", "b", b.Version);
        await _store.MarkBudgetPublishedAsync("lab", "b", 1);
        Assert.Empty(await _store.ListUnpublishedBudgetsAsync("lab"));
        Assert.Equal(["a", "b"], (await _store.ListDesiredBudgetsAsync("lab")).Select(x => x.DeviceId));
        Assert.Equal(2, (await _store.GetDesiredBudgetAsync("lab", "b"))!.PublishedVersion);
    }

    [Fact]
    public async Task Dataset_versions_never_go_backwards()
    {
        var v2 = new DatasetRecord("lab", "fmnist", 2, T0, "/data/v2", [new DatasetShard(0, "s0.dqs", 100, "aa", 10), new DatasetShard(1, "s1.dqs", 50, "bb", 5)]);
        var v1 = v2 with { ManifestVersion = 1, ShardDirectory = "/data/v1", Shards = [new DatasetShard(7, "x.dqs", 1, "cc", 1)] };
        Assert.True(await _store.RecordDatasetAsync(v2));
        Assert.False(await _store.RecordDatasetAsync(v1));
        Assert.True(await _store.RecordDatasetAsync(v2));

        var held = await _store.GetDatasetAsync("lab", "fmnist");
        Assert.Equal(2, held!.ManifestVersion);
        Assert.Equal("/data/v2", held.ShardDirectory);
        Assert.Equal([0, 1], held.Shards.Select(s => s.ShardId));
        Assert.Equal(150, held.TotalBytes);

        var v3 = v2 with { ManifestVersion = 3, Shards = [new DatasetShard(9, "s9.dqs", 7, "dd", 1)] };
        Assert.True(await _store.RecordDatasetAsync(v3));
        Assert.Equal(9, Assert.Single((await _store.GetDatasetAsync("lab", "fmnist"))!.Shards).ShardId);
        Assert.Null(await _store.GetDatasetAsync("lab", "nope"));
    }

    [Fact]
    public async Task Broadcasts_and_repairs_are_counted_once_per_key()
    {
        var broadcast = new BroadcastRecord("lab", "fmnist", 1, T0, T0.AddSeconds(2), 10, 1_000_000);
        Assert.True(await _store.RecordBroadcastAsync(broadcast));
        Assert.False(await _store.RecordBroadcastAsync(broadcast with { Chunks = 99 }));
        Assert.Equal(10, Assert.Single(await _store.ListBroadcastsAsync("lab", "fmnist")).Chunks);

        var repair = new RepairRecord("lab", "pi-1", "fmnist", 1, "k1", T0, 3, 300);
        Assert.True(await _store.RecordRepairAsync(repair));
        Assert.False(await _store.RecordRepairAsync(repair));
        Assert.True(await _store.RecordRepairAsync(repair with { RequestKey = "k2", Chunks = 1, Bytes = 100 }));
        Assert.True(await _store.RecordRepairAsync(repair with { DeviceId = "pi-2", RequestKey = "k1" }));
        var totals = await _store.ListRepairTotalsAsync("lab");
        Assert.Equal([new RepairTotals("pi-1", 2, 4, 400), new RepairTotals("pi-2", 1, 3, 300)], totals);
    }

    [Fact]
    public async Task State_survives_reopening_the_file()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0, 10, 20));
        await _store.SetDesiredBudgetAsync("lab", "pi-1", 7, T0);
        await _store.DisposeAsync();

        _store = SqliteFleetStore.Open(DbPath, createIfMissing: false);
        Assert.Equal(20, (await _store.GetDeviceAsync("lab", "pi-1"))!.BytesHeld);
        Assert.Equal(7, (await _store.GetDesiredBudgetAsync("lab", "pi-1"))!.Bytes);
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
            command.CommandText = "INSERT INTO datasets VALUES ('lab', 'old', 4, 0, '/srv/old');";
            command.ExecuteNonQuery();
        }

        await using var store = SqliteFleetStore.Open(path);
        var dataset = await store.GetDatasetAsync("lab", "old");
        Assert.Equal(4, dataset!.ManifestVersion);
        Assert.Null(dataset.SignedManifest);
        await using var check = new SqliteConnection($"Data Source={path};Pooling=False");
        check.Open();
        Assert.Equal(SqliteSchema.LatestVersion, SqliteSchema.UserVersion(check));
    }

    [Fact]
    public async Task Signed_manifest_bytes_round_trip()
    {
        var signed = "{\"manifest\":{}}"u8.ToArray();
        await _store.RecordDatasetAsync(new DatasetRecord("lab", "d", 1, T0, "/x", []) { SignedManifest = signed });
        Assert.Equal(signed, (await _store.GetDatasetAsync("lab", "d"))!.SignedManifest);
    }

    [Fact]
    public async Task Migrating_twice_is_a_no_op()
    {
        await _store.RecordDeviceReportAsync(Report("pi-1", T0, 10, 20));
        await _store.DisposeAsync();
        _store = SqliteFleetStore.Open(DbPath);
        _store = SqliteFleetStore.Open(DbPath);
        Assert.Single(await _store.ListDevicesAsync("lab"));
    }

    [Fact]
    public async Task Concurrent_writers_on_one_file_lose_no_update()
    {
        // Two stores on one file stand in for two coordinators; each sets a different budget many times.
        await using var second = SqliteFleetStore.Open(DbPath);
        var writes = Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? (IFleetStore)_store : second).SetDesiredBudgetAsync("lab", "pi-1", 1000 + (i % 2), T0));
        var results = await Task.WhenAll(writes);
        var final = await _store.GetDesiredBudgetAsync("lab", "pi-1");
        Assert.Equal(results.Max(r => r.Version), final!.Version);
        Assert.InRange(final.Version, 2, 40);
        Assert.Equal(results.Select(r => r.Version).Distinct().Count(), results.Select(r => (r.Version, r.Bytes)).Distinct().Count());
    }
}
