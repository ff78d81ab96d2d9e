using System.Collections.Concurrent;
using System.Text;
using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>Coordinator-side cases <see cref="FleetStateMutationTests"/> found, each pinned on its own.</summary>
public sealed class FleetStateFoundByMutationTests : IAsyncLifetime
{
    private readonly TempDirectory _dir = new("fleet-found");
    private readonly SyncTopics _topics = new("lab");
    private readonly ConcurrentQueue<string> _log = new();
    private SqliteFleetStore _store = null!;
    private FleetStateHandler _handler = null!;

    public Task InitializeAsync()
    {
        _store = SqliteFleetStore.Open(_dir.File("fleet.db"));
        var counters = new CoordinatorCounters();
        var outbox = new BudgetOutbox(
            _store, new BudgetPublisher(new InMemoryMqttBroker().Connect("coordinator"), _topics), "lab", "coordinator", TimeProvider.System, counters, new FleetStateMutationTests.ListLogger<BudgetOutbox>(_log));
        _handler = new FleetStateHandler(
            _store, new BudgetPlanner(new BudgetPolicy()), outbox, new DeviceBoardMap(), "lab", TimeProvider.System, counters, new FleetStateMutationTests.ListLogger<FleetStateHandler>(_log));
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_state_report_with_a_null_dataset_entry_is_refused_naming_it_instead_of_stopping_the_coordinator()
    {
        // Before, the handler read the entry's name and threw a NullReferenceException, which the service does not catch.
        var json = "{\"schema\":1,\"device\":\"pi-07\",\"status\":\"online\",\"heldBytes\":0,\"freeFlashBytes\":1000,\"datasets\":[null]}"u8.ToArray();
        await _handler.HandleStateAsync("pi-07", new MqttMessage(_topics.DeviceState("pi-07"), json), CancellationToken.None);

        Assert.Contains(_log, l => l.Contains("Ignored state on dq/v1/lab/devices/pi-07/state: DeviceState: field 'datasets[0]' is null", StringComparison.Ordinal));
        Assert.Null(await _store.GetDeviceAsync("lab", "pi-07"));
    }

    [Fact]
    public async Task A_state_report_stamped_far_ahead_is_refused_naming_the_field_and_the_next_true_one_is_recorded()
    {
        // Before, it was recorded, and every true report after it looked older and was ignored until its time came.
        await _handler.HandleStateAsync("pi-07", State(DateTimeOffset.UtcNow.AddDays(365), free: 1), CancellationToken.None);
        Assert.Contains(_log, l => l.Contains("Ignored state on dq/v1/lab/devices/pi-07/state: field 'updatedUtc'", StringComparison.Ordinal));

        await _handler.HandleStateAsync("pi-07", State(DateTimeOffset.UtcNow, free: 2_000_000), CancellationToken.None);
        Assert.Equal(2_000_000, (await _store.GetDeviceAsync("lab", "pi-07"))!.FreeFlashBytes);
    }

    [Fact]
    public async Task A_budget_report_above_the_version_issued_is_refused_naming_the_field_and_the_true_one_is_recorded()
    {
        // Before, the store kept it as the highest version reported, and the device's true reports after it were ignored.
        var issued = await _store.SetDesiredBudgetAsync("lab", "pi-07", 1 << 20, DateTimeOffset.UtcNow);
        await _handler.HandleBudgetReportedAsync("pi-07", Reported(long.MaxValue), CancellationToken.None);
        Assert.Contains(_log, l => l.Contains($"field 'version' is {long.MaxValue}, above the version {issued.Version} issued to this device", StringComparison.Ordinal));

        await _handler.HandleBudgetReportedAsync("pi-07", Reported(issued.Version), CancellationToken.None);
        Assert.Equal(issued.Version, (await _store.GetDeviceAsync("lab", "pi-07"))!.ReportedBudgetVersion);
    }

    private MqttMessage State(DateTimeOffset at, long free) => new(
        _topics.DeviceState("pi-07"),
        SyncMessageCodec.Serialize(new DeviceStateMessage { Device = "pi-07", FreeFlashBytes = free, UpdatedUtc = at }));

    private MqttMessage Reported(long version) => new(
        _topics.BudgetReported("pi-07"),
        Encoding.UTF8.GetBytes($"{{\"schema\":1,\"device\":\"pi-07\",\"version\":{version},\"budgetBytes\":1048576,\"heldBytes\":0,\"status\":\"applied\"}}"));
}
