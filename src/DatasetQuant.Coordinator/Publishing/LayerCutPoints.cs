using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Publishing;

/// <summary>
/// Where a layered dataset's layers should end so that each device of the fleet holds the increment order's longest
/// prefix within its budget, not the last 1 % step below it: for every device with a desired budget, its budget B (the
/// one it reported applying when it reported this version, which its flash quota may have capped; else the desired
/// one) less what it last reported holding of other datasets (a generator it keeps whole, say). This is the device's
/// own share rule (docs/protocol.md §7) for a device holding one quantized dataset; where it holds several, or its
/// budget or holdings change after the publish, it takes the longest prefix of layers that fits, as for any budget.
/// </summary>
public static class LayerCutPoints
{
    /// <summary>Distinct cut points at most: each adds a layer and a manifest line.</summary>
    public const int MaxCutPoints = 256;

    public static async Task<IReadOnlyList<long>> ForFleetAsync(IFleetStore store, string fleet, string dataset, CancellationToken cancellationToken)
    {
        var budgets = await store.ListDesiredBudgetsAsync(fleet, cancellationToken);
        if (budgets.Count == 0)
        {
            return [];
        }

        var devices = await store.ListDevicesAsync(fleet, cancellationToken);
        var holdings = await store.ListHoldingsAsync(fleet, cancellationToken);
        return Compute(budgets, devices, holdings, dataset);
    }

    public static IReadOnlyList<long> Compute(IEnumerable<DesiredBudget> budgets, IEnumerable<DeviceRecord> devices, IEnumerable<DeviceHolding> holdings, string dataset)
    {
        var applied = devices
            .Where(d => d.ReportedBudgetVersion is not null && d.ReportedBudgetBytes is not null)
            .ToDictionary(d => d.DeviceId, d => (Version: d.ReportedBudgetVersion!.Value, Bytes: d.ReportedBudgetBytes!.Value), StringComparer.Ordinal);
        // What each device last reported holding of other datasets (a report replaces the one before).
        var others = holdings
            .Where(h => h.Dataset != dataset)
            .GroupBy(h => h.DeviceId)
            .ToDictionary(g => g.Key, g => g.Sum(h => h.Bytes), StringComparer.Ordinal);
        return budgets
            .Select(b => (applied.TryGetValue(b.DeviceId, out var r) && r.Version == b.Version ? r.Bytes : b.Bytes) - others.GetValueOrDefault(b.DeviceId))
            .Where(target => target > 0)
            .Distinct()
            .Order()
            .Take(MaxCutPoints)
            .ToList();
    }
}
