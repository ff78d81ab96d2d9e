using System.Text;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>Coordinator-side cases <see cref="FleetStateMutationTests"/> found, each pinned on its own.</summary>
public sealed class FleetStateFoundByMutationTests : IAsyncLifetime
{
    private readonly FleetStateHandlerBed _bed = new("fleet-found");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Fact]
    public async Task A_state_report_with_a_null_dataset_entry_is_refused_naming_it_instead_of_stopping_the_coordinator()
    {
        // Before, the handler read the entry's name and threw a NullReferenceException, which the service does not catch.
        var json = "{\"schema\":1,\"device\":\"pi-07\",\"status\":\"online\",\"heldBytes\":0,\"freeFlashBytes\":1000,\"datasets\":[null]}"u8.ToArray();
        await _bed.HandleStateAsync(new MqttMessage(_bed.Topics.DeviceState("pi-07"), json));

        Assert.True(_bed.Log.Contains("Ignored state on dq/v1/lab/devices/pi-07/state: DeviceState: field 'datasets[0]' is null"), _bed.Log.Dump());
        Assert.Null(await _bed.Store.GetDeviceAsync("lab", "pi-07"));
    }

    [Fact]
    public async Task A_state_report_stamped_far_ahead_is_refused_naming_the_field_and_the_next_true_one_is_recorded()
    {
        // Before, it was recorded, and every true report after it looked older and was ignored until its time came.
        await _bed.HandleStateAsync(State(DateTimeOffset.UtcNow.AddDays(365), free: 1));
        Assert.True(_bed.Log.Contains("Ignored state on dq/v1/lab/devices/pi-07/state: field 'updatedUtc'"), _bed.Log.Dump());

        await _bed.HandleStateAsync(State(DateTimeOffset.UtcNow, free: 2_000_000));
        Assert.Equal(2_000_000, (await _bed.Store.GetDeviceAsync("lab", "pi-07"))!.FreeFlashBytes);
    }

    [Fact]
    public async Task A_budget_report_above_the_version_issued_is_refused_naming_the_field_and_the_true_one_is_recorded()
    {
        // Before, the store kept it as the highest version reported, and the device's true reports after it were ignored.
        var issued = await _bed.Store.SetDesiredBudgetAsync("lab", "pi-07", 1 << 20, DateTimeOffset.UtcNow);
        await _bed.HandleBudgetReportedAsync(Reported(long.MaxValue));
        Assert.True(_bed.Log.Contains($"field 'version' is {long.MaxValue}, above the version {issued.Version} issued to this device"), _bed.Log.Dump());

        await _bed.HandleBudgetReportedAsync(Reported(issued.Version));
        Assert.Equal(issued.Version, (await _bed.Store.GetDeviceAsync("lab", "pi-07"))!.ReportedBudgetVersion);
    }

    private MqttMessage State(DateTimeOffset at, long free) => new(
        _bed.Topics.DeviceState("pi-07"),
        SyncMessageCodec.Serialize(new DeviceStateMessage { Device = "pi-07", FreeFlashBytes = free, UpdatedUtc = at }));

    private MqttMessage Reported(long version) => new(
        _bed.Topics.BudgetReported("pi-07"),
        Encoding.UTF8.GetBytes($"{{\"schema\":1,\"device\":\"pi-07\",\"version\":{version},\"budgetBytes\":1048576,\"heldBytes\":0,\"status\":\"applied\"}}"));
}
