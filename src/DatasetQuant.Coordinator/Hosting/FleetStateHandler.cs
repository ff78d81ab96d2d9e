using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Turns what devices say (state, applied budgets) into store rows, and re-plans a device's budget whenever its
/// report changes what the planner would give it. Malformed messages are logged and change nothing.
/// </summary>
public sealed class FleetStateHandler(
    IFleetStore store,
    BudgetPlanner planner,
    BudgetOutbox outbox,
    DeviceBoardMap boards,
    string fleet,
    TimeProvider time,
    CoordinatorCounters counters,
    ILogger<FleetStateHandler> logger)
{
    /// <summary>How far ahead of this coordinator's clock a device's report may be stamped (clocks are not in step).</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(10);

    public async Task HandleStateAsync(string deviceId, MqttMessage message, CancellationToken cancellationToken)
    {
        if (!SyncMessageCodec.TryReadDeviceState(message.Payload.Span, out var state, out var error))
        {
            logger.LogWarning("Ignored state on {Topic}: {Error}", message.Topic, error);
            return;
        }

        if (!string.Equals(state.Device, deviceId, StringComparison.Ordinal))
        {
            logger.LogWarning("Ignored state on {Topic}: field 'device' is '{Device}', not the topic's", message.Topic, state.Device);
            return;
        }

        var now = time.GetUtcNow();
        if (state.UpdatedUtc > now + MaxClockSkew)
        {
            // Reports are ordered by their time: one stamped far ahead would make every true report after it look older,
            // and be ignored, until the clock caught up with it.
            logger.LogWarning(
                "Ignored state on {Topic}: field 'updatedUtc' is {Stamp:o}, more than {Skew} ahead of this coordinator's clock ({Now:o})",
                message.Topic, state.UpdatedUtc, MaxClockSkew, now);
            return;
        }

        var at = state.UpdatedUtc ?? now;
        if (state.Status == DeviceStateMessage.Offline)
        {
            if (await store.RecordDeviceOfflineAsync(fleet, deviceId, at, cancellationToken))
            {
                logger.LogInformation("Device {Device} is offline", deviceId);
            }

            return;
        }

        var shards = new List<HeldShard>();
        foreach (var dataset in state.Datasets ?? [])
        {
            foreach (var shard in dataset.Shards ?? [])
            {
                shards.Add(new HeldShard(dataset.Name, shard.Id, dataset.ManifestVersion, shard.Bytes));
            }
        }

        var report = new DeviceReport(fleet, deviceId, at, boards.BoardOf(deviceId), state.FreeFlashBytes, state.HeldBytes, shards);
        if (!await store.RecordDeviceReportAsync(report, cancellationToken))
        {
            logger.LogDebug("Ignored state of {Device} from {At:o}: a newer one is recorded", deviceId, at);
            return;
        }

        logger.LogInformation(
            "Device {Device}: {Free} bytes free, {Held} bytes held in {Shards} shards, budget v{BudgetVersion}",
            deviceId, state.FreeFlashBytes?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?", state.HeldBytes, shards.Count, state.BudgetVersion);
        await PlanAsync(deviceId, cancellationToken);
    }

    public async Task HandleBudgetReportedAsync(string deviceId, MqttMessage message, CancellationToken cancellationToken)
    {
        if (!SyncMessageCodec.TryReadBudgetReported(message.Payload.Span, out var reported, out var error))
        {
            logger.LogWarning("Ignored budget report on {Topic}: {Error}", message.Topic, error);
            return;
        }

        if (!string.Equals(reported.Device, deviceId, StringComparison.Ordinal))
        {
            logger.LogWarning("Ignored budget report on {Topic}: field 'device' is '{Device}', not the topic's", message.Topic, reported.Device);
            return;
        }

        // A device applies only the versions the coordinators issued to it; the store keeps the highest reported, so one
        // above them would hide every true report after it.
        var issued = (await store.GetDesiredBudgetAsync(fleet, deviceId, cancellationToken))?.Version ?? 0;
        if (reported.Version > issued)
        {
            logger.LogWarning(
                "Ignored budget report on {Topic}: field 'version' is {Version}, above the version {Issued} issued to this device", message.Topic, reported.Version, issued);
            return;
        }

        if (await store.RecordReportedBudgetAsync(fleet, deviceId, reported.Version, reported.BudgetBytes, cancellationToken))
        {
            logger.LogInformation(
                "Device {Device} {Status} budget v{Version}: {Budget} bytes, holds {Held}",
                deviceId, reported.Status, reported.Version, reported.BudgetBytes, reported.HeldBytes);
        }
    }

    /// <summary>Re-plans one device from what the store holds and publishes the budget if it changed.</summary>
    public async Task PlanAsync(string deviceId, CancellationToken cancellationToken)
    {
        var device = await store.GetDeviceAsync(fleet, deviceId, cancellationToken);
        if (device is not { Online: true })
        {
            return;
        }

        var current = await store.GetDesiredBudgetAsync(fleet, deviceId, cancellationToken);
        var decision = planner.Decide(device, current);
        counters.BudgetPlanned();
        if (decision.Changed)
        {
            // Another coordinator handling the same report may write this same decision first; the store then keeps
            // one version, and both count the decision.
            counters.BudgetDecided();
            var budget = await store.SetDesiredBudgetAsync(fleet, deviceId, decision.Bytes, time.GetUtcNow(), cancellationToken);
            logger.LogInformation(
                "Budget of {Device} set to {Bytes} bytes (v{Version}, was {Previous}): {Reason}",
                deviceId, budget.Bytes, budget.Version, current?.Bytes.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none", decision.Reason);
        }

        await outbox.FlushAsync(deviceId, cancellationToken);
    }

    /// <summary>Re-plans every online device (at start: the policy may have changed since the last run).</summary>
    public async Task PlanAllAsync(CancellationToken cancellationToken)
    {
        foreach (var device in await store.ListDevicesAsync(fleet, cancellationToken))
        {
            await PlanAsync(device.DeviceId, cancellationToken);
        }
    }
}
