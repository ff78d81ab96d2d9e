namespace DatasetQuant.Coordinator.Store;

/// <summary>
/// Everything the coordinator knows about its fleet. Nothing lives only in a coordinator's memory: several
/// coordinators may share one store (PostgreSQL behind MQTT 5 shared subscriptions), so every write is idempotent —
/// applying the same message twice, or an older message after a newer one, leaves the store as it was. Both engines
/// implement it through <see cref="SqlFleetStore"/>; the contract tests run against each.
/// </summary>
public interface IFleetStore : IAsyncDisposable
{
    /// <summary>
    /// Records what a device reported about itself. A report older than the one held (by <see cref="DeviceReport.ReportedAt"/>)
    /// is ignored; returns false then. The shards listed replace the ones held before.
    /// </summary>
    Task<bool> RecordDeviceReportAsync(DeviceReport report, CancellationToken cancellationToken = default);

    /// <summary>Marks a device offline (its last will arrived) unless a newer report says otherwise.</summary>
    Task<bool> RecordDeviceOfflineAsync(string fleet, string deviceId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Records the budget a device says it applied; versions lower than the one held are ignored.</summary>
    Task<bool> RecordReportedBudgetAsync(string fleet, string deviceId, long version, long bytes, CancellationToken cancellationToken = default);

    Task<DeviceRecord?> GetDeviceAsync(string fleet, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>Devices of one fleet (all fleets when <paramref name="fleet"/> is null), ordered by fleet and id.</summary>
    Task<IReadOnlyList<DeviceRecord>> ListDevicesAsync(string? fleet = null, CancellationToken cancellationToken = default);

    /// <summary>Shards a device said it holds, ordered by dataset and shard.</summary>
    Task<IReadOnlyList<HeldShard>> ListHeldShardsAsync(string fleet, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>What every device of a fleet holds, per dataset version: shards and bytes, ordered by device, dataset and version.</summary>
    Task<IReadOnlyList<DeviceHolding>> ListHoldingsAsync(string fleet, CancellationToken cancellationToken = default);

    /// <summary>
    /// Sets a device's desired budget. The version goes up by one only when <paramref name="bytes"/> differs from the
    /// desired bytes held; the same value again changes nothing. Returns the desired budget now held.
    /// </summary>
    Task<DesiredBudget> SetDesiredBudgetAsync(string fleet, string deviceId, long bytes, DateTimeOffset at, CancellationToken cancellationToken = default);

    Task<DesiredBudget?> GetDesiredBudgetAsync(string fleet, string deviceId, CancellationToken cancellationToken = default);

    /// <summary>Every desired budget of a fleet, ordered by device (re-published after the broker lost its retained messages).</summary>
    Task<IReadOnlyList<DesiredBudget>> ListDesiredBudgetsAsync(string fleet, CancellationToken cancellationToken = default);

    /// <summary>Desired budgets whose current version has not been published yet (the outbox a restart resumes).</summary>
    Task<IReadOnlyList<DesiredBudget>> ListUnpublishedBudgetsAsync(string fleet, CancellationToken cancellationToken = default);

    /// <summary>
    /// Claims the publishing of a device's desired budget until <paramref name="now"/> + <paramref name="lease"/>, so that
    /// of several coordinators only one publishes it and each publish carries the version current under the claim.
    /// Returns the budget to publish, or null when there is nothing to publish (published already, unless
    /// <paramref name="republish"/>) or another owner's claim has not expired. Claiming again as the same owner renews it.
    /// </summary>
    Task<DesiredBudget?> ClaimBudgetPublishAsync(
        string fleet, string deviceId, string owner, DateTimeOffset now, TimeSpan lease, bool republish, CancellationToken cancellationToken = default);

    /// <summary>
    /// Ends <paramref name="owner"/>'s claim and records <paramref name="publishedVersion"/> as out (null: the publish
    /// failed; a lower version never overwrites a higher one). Returns the desired budget now held, so the caller sees a
    /// newer version decided while it published.
    /// </summary>
    Task<DesiredBudget?> CompleteBudgetPublishAsync(
        string fleet, string deviceId, string owner, long? publishedVersion, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records a dataset's manifest version and shards. A version lower than the one held is refused (returns false);
    /// the same version again is accepted and changes nothing.
    /// </summary>
    Task<bool> RecordDatasetAsync(DatasetRecord dataset, CancellationToken cancellationToken = default);

    Task<DatasetRecord?> GetDatasetAsync(string fleet, string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<DatasetRecord>> ListDatasetsAsync(string? fleet = null, CancellationToken cancellationToken = default);

    /// <summary>Records a fleet broadcast of a dataset version; the same (dataset, version) again is ignored.</summary>
    Task<bool> RecordBroadcastAsync(BroadcastRecord broadcast, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<BroadcastRecord>> ListBroadcastsAsync(string fleet, string dataset, CancellationToken cancellationToken = default);

    /// <summary>
    /// Records one repair, before its chunks go out (so every repair a device received has its row).
    /// <see cref="RepairRecord.RequestKey"/> identifies the pull; the same key again is ignored (returns false), so a
    /// redelivered pull, or one answered again by another coordinator, is counted once.
    /// </summary>
    Task<bool> RecordRepairAsync(RepairRecord repair, CancellationToken cancellationToken = default);

    /// <summary>Repairs served per device: count, chunks and bytes, for one fleet.</summary>
    Task<IReadOnlyList<RepairTotals>> ListRepairTotalsAsync(string fleet, CancellationToken cancellationToken = default);

    /// <summary>The last <paramref name="limit"/> repairs of a fleet, newest first.</summary>
    Task<IReadOnlyList<RepairRecord>> ListRecentRepairsAsync(string fleet, int limit, CancellationToken cancellationToken = default);
}

/// <summary>One state report of a device. Sizes are bytes; free flash is null when the device could not tell.</summary>
public sealed record DeviceReport(
    string Fleet,
    string DeviceId,
    DateTimeOffset ReportedAt,
    string? Board,
    long? FreeFlashBytes,
    long BytesHeld,
    IReadOnlyList<HeldShard> Shards);

/// <summary>A shard a device holds: its dataset, shard id (as the manifest numbers it), manifest version it came from and its size on flash.</summary>
public sealed record HeldShard(string Dataset, int ShardId, long ManifestVersion, long Bytes);

public sealed record DeviceRecord(
    string Fleet,
    string DeviceId,
    string? Board,
    bool Online,
    DateTimeOffset LastSeen,
    long? FreeFlashBytes,
    long BytesHeld,
    int ShardsHeld,
    long? ReportedBudgetVersion,
    long? ReportedBudgetBytes);

/// <summary>A desired budget: <see cref="Version"/> starts at 1 and only goes up.</summary>
public sealed record DesiredBudget(
    string Fleet,
    string DeviceId,
    long Version,
    long Bytes,
    DateTimeOffset UpdatedAt,
    long PublishedVersion)
{
    public bool IsPublished => PublishedVersion >= Version;
}

public sealed record DatasetRecord(
    string Fleet,
    string Name,
    long ManifestVersion,
    DateTimeOffset PublishedAt,
    string ShardDirectory,
    IReadOnlyList<DatasetShard> Shards)
{
    /// <summary>The signed manifest message exactly as published (JSON), or null when it was recorded without one.</summary>
    public byte[]? SignedManifest { get; init; }

    /// <summary><see cref="DatasetKinds.Dataset"/> (quantized shards) or <see cref="DatasetKinds.Generator"/>.</summary>
    public string Kind { get; init; } = DatasetKinds.Dataset;

    public long TotalBytes => Shards.Sum(s => s.Bytes);
}

/// <summary>What the fleet store records a published thing as, from the kind of its signed manifest.</summary>
public static class DatasetKinds
{
    public const string Dataset = "dataset";

    public const string Generator = "generator";
}

/// <summary>A shard of a published dataset as its manifest lists it (SHA-256 as lowercase hex).</summary>
public sealed record DatasetShard(int ShardId, string FileName, long Bytes, string Sha256, long SampleCount);

public sealed record BroadcastRecord(
    string Fleet,
    string Dataset,
    long ManifestVersion,
    DateTimeOffset StartedAt,
    DateTimeOffset CompletedAt,
    long Chunks,
    long BytesPublished);

/// <summary>One repair: the chunks it sends and the shard bytes they carry (frame headers not counted).</summary>
public sealed record RepairRecord(
    string Fleet,
    string DeviceId,
    string Dataset,
    long ManifestVersion,
    string RequestKey,
    DateTimeOffset ServedAt,
    long Chunks,
    long Bytes);

/// <summary>The shards of one dataset version a device holds, counted and summed.</summary>
public sealed record DeviceHolding(string DeviceId, string Dataset, long ManifestVersion, int Shards, long Bytes);

public sealed record RepairTotals(string DeviceId, long Repairs, long Chunks, long Bytes);
