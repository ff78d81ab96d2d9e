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
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var bed = await Bed.StartAsync(timeout.Token);

        using var stopping = new CancellationTokenSource();
        var flushing = bed.Outbox.FlushAsync(stopping.Token);
        var (packetId, _) = await bed.Broker.ReadPublishAsync(timeout.Token);
        // The budget is on the wire; the coordinator is told to stop before the broker acknowledges it.
        await stopping.CancelAsync();
        await Task.Delay(200, timeout.Token);
        Assert.False(flushing.IsCompleted);
        await bed.Broker.AcknowledgeAsync(packetId, timeout.Token);

        Assert.Equal(1, await flushing.WaitAsync(timeout.Token));
        Assert.True((await bed.Store.GetDesiredBudgetAsync(Fleet, "pi-1"))!.IsPublished);
    }

    [Fact]
    public async Task A_stop_whose_budget_is_never_acknowledged_gives_up_after_the_grace_and_leaves_it_pending_for_the_next_start()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var bed = await Bed.StartAsync(timeout.Token);

        using var stopping = new CancellationTokenSource();
        var flushing = bed.Outbox.FlushAsync(stopping.Token);
        await bed.Broker.ReadPublishAsync(timeout.Token);
        var stoppedAt = DateTimeOffset.UtcNow;
        await stopping.CancelAsync();

        Assert.Equal(0, await flushing.WaitAsync(timeout.Token));
        Assert.InRange(DateTimeOffset.UtcNow - stoppedAt, BudgetOutbox.StopGrace - TimeSpan.FromMilliseconds(100), BudgetOutbox.StopGrace + TimeSpan.FromSeconds(10));
        var budget = (await bed.Store.GetDesiredBudgetAsync(Fleet, "pi-1"))!;
        Assert.False(budget.IsPublished);
        // The claim is given back, so the next start publishes it without waiting out the lease.
        Assert.Equal([budget.DeviceId], (await bed.Store.ListUnpublishedBudgetsAsync(Fleet)).Select(b => b.DeviceId));
        Assert.NotNull(await bed.Store.ClaimBudgetPublishAsync(Fleet, "pi-1", "coordinator-2", DateTimeOffset.UtcNow, BudgetOutbox.ClaimLease, false));
    }

    /// <summary>A store holding one pending budget, and an outbox connected to a broker that answers only when told.</summary>
    private sealed class Bed : IAsyncDisposable
    {
        private readonly TempDirectory _dir = new();

        private Bed() => Store = SqliteFleetStore.Open(Path.Combine(_dir.Path, "fleet.db"));

        public SqliteFleetStore Store { get; }

        public ScriptedBroker Broker { get; } = new();

        public MqttConnection? Connection { get; private set; }

        public BudgetOutbox Outbox { get; private set; } = null!;

        public static async Task<Bed> StartAsync(CancellationToken cancellationToken)
        {
            var bed = new Bed();
            try
            {
                await bed.Store.SetDesiredBudgetAsync(Fleet, "pi-1", 100L << 20, DateTimeOffset.UtcNow, cancellationToken);
                var accepting = bed.Broker.AcceptAsync(cancellationToken);
                bed.Connection = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = "coordinator-1" }, cancellationToken: cancellationToken);
                await accepting;
                bed.Outbox = new BudgetOutbox(
                    bed.Store, new BudgetPublisher(bed.Connection, new SyncTopics(Fleet)), Fleet, "coordinator-1", TimeProvider.System, new CoordinatorCounters(),
                    NullLogger<BudgetOutbox>.Instance);
                return bed;
            }
            catch
            {
                await bed.DisposeAsync();
                throw;
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (Connection is not null)
            {
                await Connection.DisposeAsync();
            }

            await Broker.DisposeAsync();
            await Store.DisposeAsync();
            _dir.Dispose();
        }
    }
}
