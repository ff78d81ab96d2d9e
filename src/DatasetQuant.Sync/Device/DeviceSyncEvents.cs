namespace DatasetQuant.Sync.Device;

/// <summary>
/// The seam between the device side of the protocol and the rest of dq-agent, registered as a singleton by
/// <c>AddDeviceSync</c>. Subscribe to <see cref="DatasetStored"/> to start fine-tuning when a verified shard set is on
/// flash; call <see cref="RequestStateReport"/> after a contributor's numbers changed to publish them without waiting
/// for the periodic report. Numbers for the state document come from <see cref="IDeviceStateContributor"/> services.
/// </summary>
public sealed class DeviceSyncEvents
{
    private int _reportRequested;

    /// <summary>
    /// Raised on the sync loop after every shard of a dataset version is held and verified, and again after a budget
    /// change rewrote shards. Handlers must return quickly (queue the work); an exception they throw is logged.
    /// </summary>
    public event EventHandler<DatasetStoredEventArgs>? DatasetStored;

    public void RequestStateReport() => Volatile.Write(ref _reportRequested, 1);

    internal bool TakeStateReportRequest() => Interlocked.Exchange(ref _reportRequested, 0) == 1;

    internal void OnDatasetStored(object sender, DatasetStoredEventArgs args) => DatasetStored?.Invoke(sender, args);
}

/// <param name="Dataset">Dataset name.</param>
/// <param name="ManifestVersion">The manifest version the shards belong to.</param>
/// <param name="ShardPaths">Full paths of the held shard files, in manifest order.</param>
/// <param name="HeldBytes">Bytes of those files.</param>
/// <param name="Reason"><c>received</c> for a new version, <c>budget</c> when shards were requantized or re-fetched.</param>
public sealed record DatasetStoredEventArgs(string Dataset, long ManifestVersion, IReadOnlyList<string> ShardPaths, long HeldBytes, string Reason);

/// <summary>
/// Adds numbers (for example <c>accuracy</c>) to the device's state document. Register any number of them as
/// singletons; each is called on the sync loop for every report and must be quick and not throw.
/// </summary>
public interface IDeviceStateContributor
{
    void Contribute(IDictionary<string, double> metrics);
}
