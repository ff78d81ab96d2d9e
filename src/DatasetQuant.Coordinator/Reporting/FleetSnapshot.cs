using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Reporting;

/// <summary>
/// One fleet as the store holds it at one moment, joined up for people: each device with its desired budget, what it
/// holds and how far it is with each published dataset; each dataset with its broadcast and how many devices hold it
/// all; the latest repairs. <c>status</c>, the fleet page, its JSON API and <c>/metrics</c> all read this, so they
/// show the same thing. A handful of queries whatever the fleet's size.
/// </summary>
public sealed record FleetSnapshot(
    string Fleet,
    DateTimeOffset TakenAt,
    IReadOnlyList<DeviceView> Devices,
    IReadOnlyList<DatasetView> Datasets,
    IReadOnlyList<RepairTotals> RepairTotals,
    IReadOnlyList<RepairRecord> RecentRepairs)
{
    public int Online => Devices.Count(d => d.Device.Online);

    /// <summary>Desired budgets decided but not yet published.</summary>
    public int BudgetsPending => Devices.Count(d => d.Desired is { IsPublished: false });

    /// <summary>Reads the snapshot of <paramref name="fleet"/>, with the last <paramref name="recentRepairs"/> repairs.</summary>
    public static async Task<FleetSnapshot> ReadAsync(
        IFleetStore store, string fleet, DateTimeOffset now, int recentRepairs = 20, CancellationToken cancellationToken = default)
    {
        var devices = await store.ListDevicesAsync(fleet, cancellationToken);
        var budgets = (await store.ListDesiredBudgetsAsync(fleet, cancellationToken)).ToDictionary(b => b.DeviceId, StringComparer.Ordinal);
        var holdings = (await store.ListHoldingsAsync(fleet, cancellationToken)).ToLookup(h => h.DeviceId, StringComparer.Ordinal);
        var datasets = await store.ListDatasetsAsync(fleet, cancellationToken);

        var deviceViews = devices.Select(device =>
        {
            var held = holdings[device.DeviceId].ToList();
            var transfers = datasets.Select(dataset =>
            {
                var current = held.FirstOrDefault(h => h.Dataset == dataset.Name && h.ManifestVersion == dataset.ManifestVersion);
                return new TransferProgress(dataset.Name, dataset.ManifestVersion, current?.Shards ?? 0, dataset.Shards.Count, current?.Bytes ?? 0);
            }).ToList();
            return new DeviceView(device, budgets.GetValueOrDefault(device.DeviceId), held, transfers);
        }).ToList();

        var datasetViews = new List<DatasetView>(datasets.Count);
        foreach (var dataset in datasets)
        {
            var broadcast = (await store.ListBroadcastsAsync(fleet, dataset.Name, cancellationToken)).LastOrDefault(b => b.ManifestVersion == dataset.ManifestVersion);
            var complete = deviceViews.Count(d => d.Transfers.Any(t => t.Dataset == dataset.Name && t.Complete));
            datasetViews.Add(new DatasetView(dataset, dataset.Kind, broadcast, complete));
        }

        return new FleetSnapshot(
            fleet, now, deviceViews, datasetViews,
            await store.ListRepairTotalsAsync(fleet, cancellationToken),
            await store.ListRecentRepairsAsync(fleet, recentRepairs, cancellationToken));
    }

}

/// <summary>A device, its desired budget (null before the first), its holdings and its progress per published dataset.</summary>
public sealed record DeviceView(DeviceRecord Device, DesiredBudget? Desired, IReadOnlyList<DeviceHolding> Holdings, IReadOnlyList<TransferProgress> Transfers)
{
    /// <summary>True when the device reported applying the version desired now.</summary>
    public bool BudgetApplied => Desired is not null && Device.ReportedBudgetVersion == Desired.Version;
}

/// <summary>How many of a dataset version's shards a device holds (in full or re-quantized to its budget).</summary>
public sealed record TransferProgress(string Dataset, long Version, int ShardsHeld, int Shards, long BytesHeld)
{
    public bool Complete => Shards > 0 && ShardsHeld >= Shards;
}

/// <summary>A published dataset (or generator), its latest broadcast and how many devices hold all of its current version.</summary>
public sealed record DatasetView(DatasetRecord Dataset, string Kind, BroadcastRecord? Broadcast, int DevicesComplete);
