using System.Text.Json;
using System.Text.Json.Serialization;
using DatasetQuant.Coordinator.Reporting;
using DatasetQuant.Coordinator.Store;

namespace DatasetQuant.Coordinator.Web;

/// <summary>
/// The JSON API's documents (<c>/api/fleet</c>, <c>/api/devices</c>, <c>/api/devices/{id}</c>, <c>/api/datasets</c>,
/// <c>/api/repairs</c>): plain fields in camelCase, sizes in bytes, times in ISO 8601 UTC. Made from a
/// <see cref="FleetSnapshot"/>, so they say what the page says.
/// </summary>
public static class FleetJson
{
    public sealed record Fleet(string Name, string Coordinator, string Store, DateTimeOffset TakenAt, Summary Summary,
        IReadOnlyList<Device> Devices, IReadOnlyList<Dataset> Datasets, IReadOnlyList<Repair> RecentRepairs);

    public sealed record Summary(int Devices, int Online, int Datasets, int BudgetsPending, long RepairsServed, long RepairBytes);

    public sealed record Device(string Id, string? Board, bool Online, DateTimeOffset? LastSeen, long? FreeFlashBytes, long HeldBytes, int ShardsHeld,
        Budget? BudgetDesired, Budget? BudgetReported, bool BudgetApplied, IReadOnlyList<Holding> Holdings, IReadOnlyList<Transfer> Transfers);

    public sealed record Budget(long Version, long Bytes, bool? Published);

    public sealed record Holding(string Dataset, long Version, int Shards, long Bytes);

    public sealed record Transfer(string Dataset, long Version, int ShardsHeld, int Shards, long BytesHeld, bool Complete);

    public sealed record Dataset(string Name, string Kind, long Version, int Shards, long Bytes, long Samples, DateTimeOffset PublishedAt,
        long? BroadcastChunks, long? BroadcastBytes, int DevicesComplete);

    public sealed record Repair(string Device, string Dataset, long Version, DateTimeOffset ServedAt, long Chunks, long Bytes);

    public static Fleet From(FleetSnapshot snapshot, string coordinator, string store) => new(
        snapshot.Fleet, coordinator, store, snapshot.TakenAt,
        new Summary(snapshot.Devices.Count, snapshot.Online, snapshot.Datasets.Count, snapshot.BudgetsPending,
            snapshot.RepairTotals.Sum(t => t.Repairs), snapshot.RepairTotals.Sum(t => t.Bytes)),
        snapshot.Devices.Select(From).ToList(),
        snapshot.Datasets.Select(From).ToList(),
        snapshot.RecentRepairs.Select(From).ToList());

    public static Device From(DeviceView view)
    {
        var d = view.Device;
        return new Device(
            d.DeviceId, d.Board, d.Online, d.LastSeen.ToUnixTimeMilliseconds() == 0 ? null : d.LastSeen, d.FreeFlashBytes, d.BytesHeld, d.ShardsHeld,
            view.Desired is { } desired ? new Budget(desired.Version, desired.Bytes, desired.IsPublished) : null,
            d.ReportedBudgetVersion is { } version && d.ReportedBudgetBytes is { } bytes ? new Budget(version, bytes, null) : null,
            view.BudgetApplied,
            view.Holdings.Select(h => new Holding(h.Dataset, h.ManifestVersion, h.Shards, h.Bytes)).ToList(),
            view.Transfers.Select(t => new Transfer(t.Dataset, t.Version, t.ShardsHeld, t.Shards, t.BytesHeld, t.Complete)).ToList());
    }

    public static Dataset From(DatasetView view) => new(
        view.Dataset.Name, view.Kind, view.Dataset.ManifestVersion, view.Dataset.Shards.Count, view.Dataset.TotalBytes,
        view.Dataset.Shards.Sum(s => s.SampleCount), view.Dataset.PublishedAt, view.Broadcast?.Chunks, view.Broadcast?.BytesPublished, view.DevicesComplete);

    public static Repair From(RepairRecord r) => new(r.DeviceId, r.Dataset, r.ManifestVersion, r.ServedAt, r.Chunks, r.Bytes);
}

/// <summary>Serialization of the API's documents without reflection.</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(FleetJson.Fleet))]
[JsonSerializable(typeof(IReadOnlyList<FleetJson.Device>))]
[JsonSerializable(typeof(IReadOnlyList<FleetJson.Dataset>))]
[JsonSerializable(typeof(IReadOnlyList<FleetJson.Repair>))]
[JsonSerializable(typeof(FleetJson.Device))]
internal sealed partial class FleetJsonContext : JsonSerializerContext;
