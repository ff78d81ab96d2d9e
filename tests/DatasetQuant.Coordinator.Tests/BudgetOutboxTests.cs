using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>The budget outbox against a broker that holds its acknowledgements back, so a stop can fall mid-publish.</summary>
public sealed class BudgetOutboxTests
{
    private const string Fleet = "outbox";

    [Fact]
    public async Task A_stop_while_a_budget_waits_for_its_acknowledgement_lets_it_finish_and_records_it_published()
    {
        using var dir = new TempDirectory();
        await using var store = SqliteFleetStore.Open(Path.Combine(dir.Path, "fleet.db"));
        await store.SetDesiredBudgetAsync(Fleet, "pi-1", 100L << 20, DateTimeOffset.UtcNow);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptAsync(timeout.Token);
        await using var connection = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "coordinator-1" });
        await accepting;
        var outbox = new BudgetOutbox(
            store, new BudgetPublisher(connection, new SyncTopics(Fleet)), Fleet, "coordinator-1", TimeProvider.System, new CoordinatorCounters(), NullLogger<BudgetOutbox>.Instance);

        using var stopping = new CancellationTokenSource();
        var flushing = outbox.FlushAsync(stopping.Token);
        var (packetId, _) = await broker.ReadPublishAsync(timeout.Token);
        // The budget is on the wire; the coordinator is told to stop before the broker acknowledges it.
        await stopping.CancelAsync();
        await Task.Delay(200, timeout.Token);
        Assert.False(flushing.IsCompleted);
        await broker.AcknowledgeAsync(packetId, timeout.Token);

        Assert.Equal(1, await flushing.WaitAsync(timeout.Token));
        Assert.True((await store.GetDesiredBudgetAsync(Fleet, "pi-1"))!.IsPublished);
    }

    [Fact]
    public async Task A_stop_whose_budget_is_never_acknowledged_gives_up_after_the_grace_and_leaves_it_pending_for_the_next_start()
    {
        using var dir = new TempDirectory();
        await using var store = SqliteFleetStore.Open(Path.Combine(dir.Path, "fleet.db"));
        await store.SetDesiredBudgetAsync(Fleet, "pi-1", 100L << 20, DateTimeOffset.UtcNow);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptAsync(timeout.Token);
        await using var connection = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "coordinator-1" });
        await accepting;
        var outbox = new BudgetOutbox(
            store, new BudgetPublisher(connection, new SyncTopics(Fleet)), Fleet, "coordinator-1", TimeProvider.System, new CoordinatorCounters(), NullLogger<BudgetOutbox>.Instance);

        using var stopping = new CancellationTokenSource();
        var flushing = outbox.FlushAsync(stopping.Token);
        await broker.ReadPublishAsync(timeout.Token);
        var stoppedAt = DateTimeOffset.UtcNow;
        await stopping.CancelAsync();

        Assert.Equal(0, await flushing.WaitAsync(timeout.Token));
        Assert.InRange(DateTimeOffset.UtcNow - stoppedAt, BudgetOutbox.StopGrace - TimeSpan.FromMilliseconds(100), BudgetOutbox.StopGrace + TimeSpan.FromSeconds(10));
        var budget = (await store.GetDesiredBudgetAsync(Fleet, "pi-1"))!;
        Assert.False(budget.IsPublished);
        // The claim is given back, so the next start publishes it without waiting out the lease.
        Assert.Equal([budget.DeviceId], (await store.ListUnpublishedBudgetsAsync(Fleet)).Select(b => b.DeviceId));
        Assert.NotNull(await store.ClaimBudgetPublishAsync(Fleet, "pi-1", "coordinator-2", DateTimeOffset.UtcNow, BudgetOutbox.ClaimLease, false));
    }
}
