using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>
/// What every <see cref="IFleetStore"/> must do, run against each engine (<see cref="SqliteFleetStoreTests"/>,
/// <see cref="PostgresFleetStoreTests"/>): a store is only added or changed together with these.
/// </summary>
public abstract class FleetStoreContractTests : IAsyncLifetime
{
    protected static readonly DateTimeOffset T0 = new(2026, 11, 21, 12, 0, 0, TimeSpan.Zero);

    protected SqlFleetStore Store { get; private set; } = null!;

    /// <summary>A new store over the same database as <see cref="Store"/> (as another coordinator, or after a restart).</summary>
    protected abstract Task<SqlFleetStore> OpenSameDatabaseAsync();

    protected abstract Task<SqlFleetStore> CreateDatabaseAsync();

    public virtual async Task InitializeAsync() => Store = await CreateDatabaseAsync();

    public virtual async Task DisposeAsync() => await Store.DisposeAsync();

    protected async Task ReopenAsync()
    {
        await Store.DisposeAsync();
        Store = await OpenSameDatabaseAsync();
    }

    private static DeviceReport Report(string id, DateTimeOffset at, long free, long held, params HeldShard[] shards) =>
        new("lab", id, at, "rpi-4", free, held, shards);

    [Fact]
    public async Task Device_report_is_recorded_with_its_shards()
    {
        Assert.True(await Store.RecordDeviceReportAsync(Report("pi-1", T0, 900_000, 100_000,
            new HeldShard("fmnist", 0, 3, 60_000), new HeldShard("fmnist", 1, 3, 40_000))));

        var device = await Store.GetDeviceAsync("lab", "pi-1");
        Assert.NotNull(device);
        Assert.True(device.Online);
        Assert.Equal(900_000, device.FreeFlashBytes);
        Assert.Equal(100_000, device.BytesHeld);
        Assert.Equal(2, device.ShardsHeld);
        Assert.Equal(T0, device.LastSeen);
        Assert.Equal("rpi-4", device.Board);
        var shards = await Store.ListHeldShardsAsync("lab", "pi-1");
        Assert.Equal([0, 1], shards.Select(s => s.ShardId));
    }

    [Fact]
    public async Task Older_report_after_newer_changes_nothing_and_redelivery_is_harmless()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(10), 500, 50, new HeldShard("d", 0, 1, 50)));
        Assert.False(await Store.RecordDeviceReportAsync(Report("pi-1", T0, 999, 999)));
        Assert.True(await Store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(10), 500, 50, new HeldShard("d", 0, 1, 50))));

        var device = await Store.GetDeviceAsync("lab", "pi-1");
        Assert.Equal(500, device!.FreeFlashBytes);
        Assert.Equal(1, device.ShardsHeld);
    }

    [Fact]
    public async Task A_new_report_replaces_the_shards_held()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0, 1, 2, new HeldShard("d", 0, 1, 1), new HeldShard("d", 1, 1, 1)));
        await Store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(1), 1, 1, new HeldShard("d", 1, 2, 1)));
        var shards = await Store.ListHeldShardsAsync("lab", "pi-1");
        Assert.Equal(new HeldShard("d", 1, 2, 1), Assert.Single(shards));
    }

    [Fact]
    public async Task Offline_applies_only_when_not_older_than_last_report()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0.AddSeconds(5), 1, 1));
        Assert.False(await Store.RecordDeviceOfflineAsync("lab", "pi-1", T0));
        Assert.True((await Store.GetDeviceAsync("lab", "pi-1"))!.Online);
        Assert.True(await Store.RecordDeviceOfflineAsync("lab", "pi-1", T0.AddSeconds(6)));
        Assert.False((await Store.GetDeviceAsync("lab", "pi-1"))!.Online);
        Assert.False(await Store.RecordDeviceOfflineAsync("lab", "unknown", T0));
    }

    [Fact]
    public async Task Desired_budget_versions_only_go_up_and_only_on_change()
    {
        var first = await Store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0);
        Assert.Equal(1, first.Version);
        Assert.False(first.IsPublished);

        var same = await Store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0.AddSeconds(1));
        Assert.Equal(1, same.Version);
        Assert.Equal(T0, same.UpdatedAt);

        var lower = await Store.SetDesiredBudgetAsync("lab", "pi-1", 600, T0.AddSeconds(2));
        Assert.Equal(2, lower.Version);
        Assert.Equal(600, lower.Bytes);

        var back = await Store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0.AddSeconds(3));
        Assert.Equal(3, back.Version);
    }

    [Fact]
    public async Task Desired_budget_version_starts_above_what_the_device_reported()
    {
        // A coordinator over a fresh database must not hand out version 1 to a device that applied version 41.
        Assert.True(await Store.RecordReportedBudgetAsync("lab", "pi-1", 41, 5000));
        var budget = await Store.SetDesiredBudgetAsync("lab", "pi-1", 4000, T0);
        Assert.Equal(42, budget.Version);
    }

    [Fact]
    public async Task Reported_budget_ignores_lower_versions()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0, 1, 1));
        Assert.True(await Store.RecordReportedBudgetAsync("lab", "pi-1", 5, 500));
        Assert.False(await Store.RecordReportedBudgetAsync("lab", "pi-1", 4, 400));
        Assert.True(await Store.RecordReportedBudgetAsync("lab", "pi-1", 5, 500));
        var device = await Store.GetDeviceAsync("lab", "pi-1");
        Assert.Equal(5, device!.ReportedBudgetVersion);
        Assert.Equal(500, device.ReportedBudgetBytes);
        Assert.True(device.Online);
    }

    [Fact]
    public async Task Unpublished_budgets_form_an_outbox_that_marking_empties()
    {
        await Store.SetDesiredBudgetAsync("lab", "a", 1, T0);
        await Store.SetDesiredBudgetAsync("lab", "b", 2, T0);
        await Store.SetDesiredBudgetAsync("other", "c", 3, T0);
        Assert.Equal(["a", "b"], (await Store.ListUnpublishedBudgetsAsync("lab")).Select(b => b.DeviceId));

        await Store.CompleteBudgetPublishAsync("lab", "a", "c1", 1);
        var b = await Store.SetDesiredBudgetAsync("lab", "b", 20, T0);
        await Store.CompleteBudgetPublishAsync("lab", "b", "c1", 1);
        Assert.Equal([("b", 2L)], (await Store.ListUnpublishedBudgetsAsync("lab")).Select(x => (x.DeviceId, x.Version)));

        await Store.CompleteBudgetPublishAsync("lab", "b", "c1", b.Version);
        await Store.CompleteBudgetPublishAsync("lab", "b", "c1", 1);
        Assert.Empty(await Store.ListUnpublishedBudgetsAsync("lab"));
        Assert.Equal(["a", "b"], (await Store.ListDesiredBudgetsAsync("lab")).Select(x => x.DeviceId));
        Assert.Equal(2, (await Store.GetDesiredBudgetAsync("lab", "b"))!.PublishedVersion);
    }

    [Fact]
    public async Task Dataset_versions_never_go_backwards()
    {
        var v2 = new DatasetRecord("lab", "fmnist", 2, T0, "/data/v2", [new DatasetShard(0, "s0.dqs", 100, "aa", 10), new DatasetShard(1, "s1.dqs", 50, "bb", 5)]);
        var v1 = v2 with { ManifestVersion = 1, ShardDirectory = "/data/v1", Shards = [new DatasetShard(7, "x.dqs", 1, "cc", 1)] };
        Assert.True(await Store.RecordDatasetAsync(v2));
        Assert.False(await Store.RecordDatasetAsync(v1));
        Assert.True(await Store.RecordDatasetAsync(v2));

        var held = await Store.GetDatasetAsync("lab", "fmnist");
        Assert.Equal(2, held!.ManifestVersion);
        Assert.Equal("/data/v2", held.ShardDirectory);
        Assert.Equal([0, 1], held.Shards.Select(s => s.ShardId));
        Assert.Equal(150, held.TotalBytes);

        var v3 = v2 with { ManifestVersion = 3, Shards = [new DatasetShard(9, "s9.dqs", 7, "dd", 1)] };
        Assert.True(await Store.RecordDatasetAsync(v3));
        Assert.Equal(9, Assert.Single((await Store.GetDatasetAsync("lab", "fmnist"))!.Shards).ShardId);
        Assert.Null(await Store.GetDatasetAsync("lab", "nope"));
    }

    [Fact]
    public async Task Broadcasts_and_repairs_are_counted_once_per_key()
    {
        var broadcast = new BroadcastRecord("lab", "fmnist", 1, T0, T0.AddSeconds(2), 10, 1_000_000);
        Assert.True(await Store.RecordBroadcastAsync(broadcast));
        Assert.False(await Store.RecordBroadcastAsync(broadcast with { Chunks = 99 }));
        Assert.Equal(10, Assert.Single(await Store.ListBroadcastsAsync("lab", "fmnist")).Chunks);

        var repair = new RepairRecord("lab", "pi-1", "fmnist", 1, "k1", T0, 3, 300);
        Assert.True(await Store.RecordRepairAsync(repair));
        Assert.False(await Store.RecordRepairAsync(repair));
        Assert.True(await Store.RecordRepairAsync(repair with { RequestKey = "k2", Chunks = 1, Bytes = 100 }));
        Assert.True(await Store.RecordRepairAsync(repair with { DeviceId = "pi-2", RequestKey = "k1" }));
        var totals = await Store.ListRepairTotalsAsync("lab");
        Assert.Equal([new RepairTotals("pi-1", 2, 4, 400), new RepairTotals("pi-2", 1, 3, 300)], totals);
    }

    [Fact]
    public async Task State_survives_reopening_the_store()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0, 10, 20));
        await Store.SetDesiredBudgetAsync("lab", "pi-1", 7, T0);
        await ReopenAsync();
        Assert.Equal(20, (await Store.GetDeviceAsync("lab", "pi-1"))!.BytesHeld);
        Assert.Equal(7, (await Store.GetDesiredBudgetAsync("lab", "pi-1"))!.Bytes);
    }

    [Fact]
    public async Task Signed_manifest_bytes_round_trip()
    {
        var signed = "{\"manifest\":{}}"u8.ToArray();
        await Store.RecordDatasetAsync(new DatasetRecord("lab", "d", 1, T0, "/x", []) { SignedManifest = signed });
        Assert.Equal(signed, (await Store.GetDatasetAsync("lab", "d"))!.SignedManifest);
    }

    [Fact]
    public async Task The_kind_of_what_was_published_is_recorded_and_follows_the_newest_version()
    {
        await Store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist", 1, T0, "/x", [new DatasetShard(0, "s0.dqs", 100, "aa", 10)]));
        await Store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist-dim", 1, T0, "/g", [new DatasetShard(0, "G.onnx", 9, "bb", 0)]) { Kind = DatasetKinds.Generator });
        await ReopenAsync();
        Assert.Equal(
            [("fmnist", DatasetKinds.Dataset), ("fmnist-dim", DatasetKinds.Generator)],
            (await Store.ListDatasetsAsync("lab")).Select(d => (d.Name, d.Kind)));

        // A name may be reused for the other kind: the newest version says what it is, an older one changes nothing.
        Assert.True(await Store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist-dim", 2, T0, "/d", []) { Kind = DatasetKinds.Dataset }));
        Assert.False(await Store.RecordDatasetAsync(new DatasetRecord("lab", "fmnist-dim", 1, T0, "/g", []) { Kind = DatasetKinds.Generator }));
        Assert.Equal(DatasetKinds.Dataset, (await Store.GetDatasetAsync("lab", "fmnist-dim"))!.Kind);
    }

    /// <summary>A signed manifest message as the coordinator serializes it, of the given kind (signature not checked here).</summary>
    protected static byte[] SignedManifestOfKind(string kind) => DatasetQuant.Sync.Messages.SyncMessageCodec.Serialize(
        new DatasetQuant.Sync.Messages.SignedManifestMessage
        {
            Manifest = new DatasetQuant.Sync.Messages.DatasetManifest { Fleet = "lab", Dataset = "x", Kind = kind, Version = 1 },
            KeyId = "k",
            Signature = "c2ln",
        });

    [Fact]
    public async Task Opening_again_migrates_nothing_and_keeps_the_rows()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0, 10, 20));
        await ReopenAsync();
        await ReopenAsync();
        Assert.Single(await Store.ListDevicesAsync("lab"));
    }

    [Fact]
    public async Task One_coordinator_at_a_time_holds_a_budget_publish_claim_until_it_completes_or_expires()
    {
        var lease = TimeSpan.FromSeconds(10);
        await Store.SetDesiredBudgetAsync("lab", "pi-1", 1000, T0);
        var claimed = await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0, lease, republish: false);
        Assert.Equal((1L, 1000L), (claimed!.Version, claimed.Bytes));
        Assert.Null(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c2", T0.AddSeconds(1), lease, republish: false));
        Assert.NotNull(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0.AddSeconds(1), lease, republish: false));

        // A new version decided under c1's claim: c1 publishes v1, completes, and is told v2 waits.
        await Store.SetDesiredBudgetAsync("lab", "pi-1", 2000, T0.AddSeconds(2));
        var after = await Store.CompleteBudgetPublishAsync("lab", "pi-1", "c1", 1);
        Assert.Equal((2L, 1L, false), (after!.Version, after.PublishedVersion, after.IsPublished));

        // The claim is free again: c2 takes it, publishes v2; nothing is left to claim after that.
        var second = await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c2", T0.AddSeconds(3), lease, republish: false);
        Assert.Equal(2, second!.Version);
        Assert.True((await Store.CompleteBudgetPublishAsync("lab", "pi-1", "c2", 2))!.IsPublished);
        Assert.Null(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0.AddSeconds(4), lease, republish: false));
        Assert.Equal(2, (await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0.AddSeconds(4), lease, republish: true))!.Version);

        // c1 dies holding that claim: c2 gets it once the lease is over, not before.
        Assert.Null(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c2", T0.AddSeconds(13), lease, republish: true));
        Assert.NotNull(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c2", T0.AddSeconds(14), lease, republish: true));

        // A failed publish (no version) ends the claim and records nothing; a completion by a stale owner leaves the claim.
        Assert.Equal(2, (await Store.CompleteBudgetPublishAsync("lab", "pi-1", "c1", null))!.PublishedVersion);
        Assert.Null(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0.AddSeconds(15), lease, republish: true));
        await Store.CompleteBudgetPublishAsync("lab", "pi-1", "c2", null);
        Assert.NotNull(await Store.ClaimBudgetPublishAsync("lab", "pi-1", "c1", T0.AddSeconds(15), lease, republish: true));
        Assert.Null(await Store.ClaimBudgetPublishAsync("lab", "nobody", "c1", T0, lease, republish: true));
    }

    [Fact]
    public async Task Holdings_and_recent_repairs_are_listed_per_fleet()
    {
        await Store.RecordDeviceReportAsync(Report("pi-1", T0, 1, 6, new HeldShard("a", 0, 2, 1), new HeldShard("a", 1, 2, 2), new HeldShard("b", 0, 1, 3)));
        await Store.RecordDeviceReportAsync(Report("pi-2", T0, 1, 4, new HeldShard("a", 0, 1, 4)));
        await Store.RecordDeviceReportAsync(new DeviceReport("other", "pi-1", T0, null, 1, 9, [new HeldShard("a", 0, 2, 9)]));
        Assert.Equal(
            [new DeviceHolding("pi-1", "a", 2, 2, 3), new DeviceHolding("pi-1", "b", 1, 1, 3), new DeviceHolding("pi-2", "a", 1, 1, 4)],
            await Store.ListHoldingsAsync("lab"));

        for (var i = 0; i < 5; i++)
        {
            await Store.RecordRepairAsync(new RepairRecord("lab", "pi-1", "a", 2, $"k{i}", T0.AddSeconds(i), i + 1, 100 * (i + 1)));
        }

        await Store.RecordRepairAsync(new RepairRecord("other", "pi-1", "a", 2, "x", T0.AddHours(1), 1, 1));
        var recent = await Store.ListRecentRepairsAsync("lab", 3);
        Assert.Equal(["k4", "k3", "k2"], recent.Select(r => r.RequestKey));
        Assert.Equal((T0.AddSeconds(4), 5L, 500L), (recent[0].ServedAt, recent[0].Chunks, recent[0].Bytes));
    }

    [Fact]
    public async Task Names_sort_byte_by_byte()
    {
        foreach (var id in new[] { "b", "B", "a-2", "a_1", "A" })
        {
            await Store.RecordDeviceReportAsync(Report(id, T0, 1, 1));
        }

        Assert.Equal(["A", "B", "a-2", "a_1", "b"], (await Store.ListDevicesAsync("lab")).Select(d => d.DeviceId));
    }

    [Fact]
    public async Task Concurrent_writers_on_one_database_lose_no_update()
    {
        // Two stores on one database stand in for two coordinators; each sets a different budget many times.
        await using var second = await OpenSameDatabaseAsync();
        var writes = Enumerable.Range(0, 40).Select(i =>
            (i % 2 == 0 ? (IFleetStore)Store : second).SetDesiredBudgetAsync("lab", "pi-1", 1000 + (i % 2), T0));
        var results = await Task.WhenAll(writes);
        var final = await Store.GetDesiredBudgetAsync("lab", "pi-1");
        Assert.Equal(results.Max(r => r.Version), final!.Version);
        Assert.InRange(final.Version, 2, 40);
        Assert.Equal(results.Select(r => r.Version).Distinct().Count(), results.Select(r => (r.Version, r.Bytes)).Distinct().Count());
    }

    [Fact]
    public async Task Coordinators_applying_the_same_reports_at_once_leave_each_row_once()
    {
        // Three stores apply the same stream of reports concurrently, as three coordinators on one store do.
        var stores = new[] { Store, await OpenSameDatabaseAsync(), await OpenSameDatabaseAsync() };
        try
        {
            var reports = Enumerable.Range(0, 12).Select(i => Report("pi-1", T0.AddSeconds(i), 1000 - i, i,
                Enumerable.Range(0, 1 + (i % 4)).Select(s => new HeldShard("d", s, 1 + (i / 4), 10 + s)).ToArray())).ToList();
            await Task.WhenAll(stores.Select(async (store, n) =>
            {
                foreach (var report in n == 1 ? Enumerable.Reverse(reports) : reports)
                {
                    await store.RecordDeviceReportAsync(report);
                    await store.SetDesiredBudgetAsync("lab", "pi-1", 500 + (report.BytesHeld % 3), report.ReportedAt);
                }
            }));

            var last = reports[^1];
            var device = Assert.Single(await Store.ListDevicesAsync("lab"));
            Assert.Equal((last.BytesHeld, last.FreeFlashBytes, last.Shards.Count), (device.BytesHeld, device.FreeFlashBytes, device.ShardsHeld));
            Assert.Equal(last.Shards, await Store.ListHeldShardsAsync("lab", "pi-1"));
            Assert.Single(await Store.ListDesiredBudgetsAsync("lab"));
        }
        finally
        {
            await stores[1].DisposeAsync();
            await stores[2].DisposeAsync();
        }
    }

    [Fact]
    public async Task Racing_publishers_never_leave_a_lower_dataset_version()
    {
        await using var second = await OpenSameDatabaseAsync();
        var records = Enumerable.Range(1, 30).Select(v => new DatasetRecord("lab", "d", v, T0, $"/v{v}", [new DatasetShard(v, $"s{v}.dqs", v, "aa", 1)])).ToList();
        var results = await Task.WhenAll(records.Select((r, i) => (i % 2 == 0 ? (IFleetStore)Store : second).RecordDatasetAsync(r)));
        var held = await Store.GetDatasetAsync("lab", "d");
        Assert.Equal(30, held!.ManifestVersion);
        Assert.Equal("/v30", held.ShardDirectory);
        Assert.Equal(30, Assert.Single(held.Shards).ShardId);
        Assert.True(results[^1]);
    }
}
