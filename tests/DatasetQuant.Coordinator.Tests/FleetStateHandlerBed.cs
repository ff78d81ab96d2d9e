using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Testing;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>
/// The coordinator's handler of what devices report (<see cref="FleetStateHandler"/>) over a real SQLite store in a
/// temporary folder, fleet "lab", its budget outbox publishing to an in-memory broker, every log line collected.
/// </summary>
internal sealed class FleetStateHandlerBed : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    public FleetStateHandlerBed(string name)
    {
        _dir = new TempDirectory(name);
        Store = SqliteFleetStore.Open(_dir.File("fleet.db"));
        var counters = new CoordinatorCounters();
        var outbox = new BudgetOutbox(Store, new BudgetPublisher(new InMemoryMqttBroker().Connect("coordinator"), Topics), "lab", "coordinator",
            TimeProvider.System, counters, Log.For<BudgetOutbox>());
        Handler = new FleetStateHandler(Store, new BudgetPlanner(new BudgetPolicy()), outbox, new DeviceBoardMap(), "lab", TimeProvider.System, counters,
            Log.For<FleetStateHandler>());
    }

    public SyncTopics Topics { get; } = new("lab");

    public TestLog Log { get; } = new();

    public SqliteFleetStore Store { get; }

    public FleetStateHandler Handler { get; }

    public Task HandleStateAsync(MqttMessage message) => Handler.HandleStateAsync("pi-07", message, CancellationToken.None);

    public Task HandleBudgetReportedAsync(MqttMessage message) => Handler.HandleBudgetReportedAsync("pi-07", message, CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        await Store.DisposeAsync();
        _dir.Dispose();
    }
}
