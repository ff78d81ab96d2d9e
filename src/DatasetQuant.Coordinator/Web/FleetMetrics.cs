using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Reporting;
using DatasetQuant.Coordinator.Store;
using Prometheus;

namespace DatasetQuant.Coordinator.Web;

/// <summary>
/// The Prometheus metrics at <c>/metrics</c>, all named <c>dq_…</c>, in a registry of their own (prometheus-net writes
/// the exposition format). Fleet gauges are read from the store at each scrape, so every coordinator of a share group
/// reports the same fleet; <c>dq_coordinator_…</c> counters are this process's own and add up over the group.
/// </summary>
public sealed class FleetMetrics
{
    private readonly CollectorRegistry _registry = Metrics.NewCustomRegistry();
    private readonly IFleetStore _store;
    private readonly string _fleet;
    private readonly TimeProvider _time;

    private readonly Gauge _devices;
    private readonly Gauge _deviceOnline;
    private readonly Gauge _deviceFreeFlash;
    private readonly Gauge _deviceHeld;
    private readonly Gauge _budgetDesiredBytes;
    private readonly Gauge _budgetDesiredVersion;
    private readonly Gauge _budgetReportedBytes;
    private readonly Gauge _budgetReportedVersion;
    private readonly Gauge _budgetsPending;
    private readonly Gauge _datasetVersion;
    private readonly Gauge _datasetBytes;
    private readonly Gauge _datasetDevicesComplete;
    private readonly Gauge _repairsRecorded;
    private readonly Gauge _repairBytesRecorded;

    public FleetMetrics(IFleetStore store, string fleet, string coordinator, CoordinatorCounters counters, Func<int> repairQueue, TimeProvider time)
    {
        _store = store;
        _fleet = fleet;
        _time = time;
        var factory = Metrics.WithCustomRegistry(_registry);
        string[] device = ["fleet", "device"];
        string[] dataset = ["fleet", "dataset", "kind"];
        _devices = factory.CreateGauge("dq_devices", "Devices of the fleet in the store, by state.", "fleet", "state");
        _deviceOnline = factory.CreateGauge("dq_device_online", "1 while the device is online (its last will not received since its last report).", device);
        _deviceFreeFlash = factory.CreateGauge("dq_device_free_flash_bytes", "Flash the device last said it could still give to datasets.", device);
        _deviceHeld = factory.CreateGauge("dq_device_held_bytes", "Bytes of verified shards the device last said it holds.", device);
        _budgetDesiredBytes = factory.CreateGauge("dq_device_budget_desired_bytes", "The budget decided for the device.", device);
        _budgetDesiredVersion = factory.CreateGauge("dq_device_budget_desired_version", "Version of the budget decided for the device.", device);
        _budgetReportedBytes = factory.CreateGauge("dq_device_budget_reported_bytes", "The budget the device says it applied.", device);
        _budgetReportedVersion = factory.CreateGauge("dq_device_budget_reported_version", "Version of the budget the device says it applied.", device);
        _budgetsPending = factory.CreateGauge("dq_budgets_pending", "Desired budgets decided but not yet published.", "fleet");
        _datasetVersion = factory.CreateGauge("dq_dataset_version", "Manifest version of each published dataset or generator.", dataset);
        _datasetBytes = factory.CreateGauge("dq_dataset_bytes", "Size of the current version's shards.", dataset);
        _datasetDevicesComplete = factory.CreateGauge("dq_dataset_devices_complete", "Devices holding every shard of the current version.", dataset);
        _repairsRecorded = factory.CreateGauge("dq_fleet_repairs", "Repairs recorded in the store for the fleet, by every coordinator.", "fleet");
        _repairBytesRecorded = factory.CreateGauge("dq_fleet_repair_bytes", "Payload bytes of the repairs recorded for the fleet.", "fleet");

        string[] self = ["fleet", "coordinator"];
        var info = factory.CreateGauge("dq_coordinator_info", "Always 1: the coordinator serving these metrics and its store engine.", "fleet", "coordinator", "store");
        info.WithLabels(fleet, coordinator, store is PostgresFleetStore ? "postgres" : "sqlite").Set(1);
        var messages = factory.CreateCounter("dq_coordinator_messages_total", "Messages this coordinator handled, by kind.", "fleet", "coordinator", "kind");
        var failed = factory.CreateCounter("dq_coordinator_messages_failed_total", "Messages whose handling failed on a store or broker error.", self);
        var answered = factory.CreateCounter("dq_coordinator_pulls_answered_total", "Pulls this coordinator answered.", self);
        var dropped = factory.CreateCounter("dq_coordinator_pulls_dropped_total", "Pulls dropped because the repair queue was full.", self);
        var pullsFailed = factory.CreateCounter("dq_coordinator_pulls_failed_total", "Pulls whose answer failed.", self);
        var duplicates = factory.CreateCounter("dq_coordinator_pulls_duplicate_total", "Pulls dropped because the same pull already waited in the queue.", self);
        var chunks = factory.CreateCounter("dq_coordinator_repair_chunks_total", "Chunks this coordinator sent in repairs.", self);
        var bytes = factory.CreateCounter("dq_coordinator_repair_bytes_total", "Payload bytes this coordinator sent in repairs.", self);
        var plans = factory.CreateCounter("dq_coordinator_budget_plans_total", "Budget plans this coordinator made.", self);
        var decisions = factory.CreateCounter("dq_coordinator_budget_decisions_total", "Plans that changed a device's budget.", self);
        var publishes = factory.CreateCounter("dq_coordinator_budget_publishes_total", "Desired budgets this coordinator published.", self);
        var queue = factory.CreateGauge("dq_coordinator_repair_queue", "Pulls waiting for an answer.", self);

        _registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            messages.WithLabels(fleet, coordinator, "state").IncTo(counters.StateReports);
            messages.WithLabels(fleet, coordinator, "budget_reported").IncTo(counters.BudgetReports);
            messages.WithLabels(fleet, coordinator, "pull").IncTo(counters.PullsReceived);
            messages.WithLabels(fleet, coordinator, "manifest").IncTo(counters.ManifestAnnouncements);
            failed.WithLabels(fleet, coordinator).IncTo(counters.MessagesFailed);
            answered.WithLabels(fleet, coordinator).IncTo(counters.PullsAnswered);
            dropped.WithLabels(fleet, coordinator).IncTo(counters.PullsDropped);
            pullsFailed.WithLabels(fleet, coordinator).IncTo(counters.PullsFailed);
            duplicates.WithLabels(fleet, coordinator).IncTo(counters.PullsDuplicate);
            chunks.WithLabels(fleet, coordinator).IncTo(counters.RepairChunks);
            bytes.WithLabels(fleet, coordinator).IncTo(counters.RepairBytes);
            plans.WithLabels(fleet, coordinator).IncTo(counters.BudgetPlans);
            decisions.WithLabels(fleet, coordinator).IncTo(counters.BudgetDecisions);
            publishes.WithLabels(fleet, coordinator).IncTo(counters.BudgetPublishes);
            queue.WithLabels(fleet, coordinator).Set(repairQueue());
            await UpdateFleetAsync(cancellationToken);
        });
    }

    /// <summary>Writes every metric in the Prometheus text format; the store is read first.</summary>
    public Task WriteAsync(Stream destination, CancellationToken cancellationToken) =>
        _registry.CollectAndExportAsTextAsync(destination, cancellationToken);

    private async Task UpdateFleetAsync(CancellationToken cancellationToken)
    {
        var snapshot = await FleetSnapshot.ReadAsync(_store, _fleet, _time.GetUtcNow(), recentRepairs: 1, cancellationToken);
        _devices.WithLabels(_fleet, "online").Set(snapshot.Online);
        _devices.WithLabels(_fleet, "offline").Set(snapshot.Devices.Count - snapshot.Online);
        _budgetsPending.WithLabels(_fleet).Set(snapshot.BudgetsPending);
        foreach (var view in snapshot.Devices)
        {
            var d = view.Device;
            _deviceOnline.WithLabels(_fleet, d.DeviceId).Set(d.Online ? 1 : 0);
            _deviceHeld.WithLabels(_fleet, d.DeviceId).Set(d.BytesHeld);
            SetOrRemove(_deviceFreeFlash, d.DeviceId, d.FreeFlashBytes);
            SetOrRemove(_budgetDesiredBytes, d.DeviceId, view.Desired?.Bytes);
            SetOrRemove(_budgetDesiredVersion, d.DeviceId, view.Desired?.Version);
            SetOrRemove(_budgetReportedBytes, d.DeviceId, d.ReportedBudgetBytes);
            SetOrRemove(_budgetReportedVersion, d.DeviceId, d.ReportedBudgetVersion);
        }

        foreach (var view in snapshot.Datasets)
        {
            _datasetVersion.WithLabels(_fleet, view.Dataset.Name, view.Kind).Set(view.Dataset.ManifestVersion);
            _datasetBytes.WithLabels(_fleet, view.Dataset.Name, view.Kind).Set(view.Dataset.TotalBytes);
            _datasetDevicesComplete.WithLabels(_fleet, view.Dataset.Name, view.Kind).Set(view.DevicesComplete);
        }

        _repairsRecorded.WithLabels(_fleet).Set(snapshot.RepairTotals.Sum(t => t.Repairs));
        _repairBytesRecorded.WithLabels(_fleet).Set(snapshot.RepairTotals.Sum(t => t.Bytes));
    }

    /// <summary>A device that has not said (or been given) a value has no series, rather than a misleading 0.</summary>
    private void SetOrRemove(Gauge gauge, string device, long? value)
    {
        if (value is { } v)
        {
            gauge.WithLabels(_fleet, device).Set(v);
        }
        else
        {
            gauge.RemoveLabelled(_fleet, device);
        }
    }
}
