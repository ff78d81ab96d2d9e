using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The device's data directory: <c>sync-state.json</c> and <c>datasets/{name}/</c> with the held shards, their
/// <c>.partial</c> files and <c>.chunks</c> journals. On open it reconciles files and state after a power cut:
/// records of missing files go, files nobody references go, a held file whose size changed (a requantization whose
/// rename landed but whose state write did not) is taken at its new size. A layered dataset's files are in
/// <c>DeviceStore.Layers.cs</c>.
/// </summary>
internal sealed partial class DeviceStore
{
    private readonly string _statePath;
    private readonly ILogger _logger;

    public DeviceStore(string dataDirectory, ManifestVerifier verifier, ILogger logger)
    {
        _logger = logger;
        DataDirectory = Path.GetFullPath(dataDirectory);
        Directory.CreateDirectory(Path.Combine(DataDirectory, "datasets"));
        _statePath = Path.Combine(DataDirectory, "sync-state.json");
        State = DeviceSyncStateFile.Load(_statePath);
        Reconcile(verifier);
    }

    public string DataDirectory { get; }

    public DeviceSyncStateFile State { get; }

    public string DatasetDirectory(string dataset) => Path.Combine(DataDirectory, "datasets", dataset);

    public string ShardPath(string dataset, ManifestShard shard) => Path.Combine(DatasetDirectory(dataset), shard.Name);

    public DatasetHoldings? Find(string dataset) => State.Datasets.TryGetValue(dataset, out var holdings) ? holdings : null;

    public long HeldBytes
    {
        get
        {
            long total = 0;
            foreach (var holdings in State.Datasets.Values)
            {
                total += holdings.LayeredBytes;
                foreach (var shard in holdings.Shards)
                {
                    total += shard.Bytes;
                }
            }

            return total;
        }
    }

    /// <summary>Whether <see cref="State"/> holds a change that <see cref="Save"/> has not written yet.</summary>
    public bool HasUnsavedChanges => UnsavedSince is not null;

    /// <summary>When the oldest change not yet written was made; null when the file is up to date.</summary>
    public DateTimeOffset? UnsavedSince { get; private set; }

    public void Save()
    {
        State.Save(_statePath);
        UnsavedSince = null;
    }

    /// <summary>
    /// Records that <see cref="State"/> changed at <paramref name="at"/> without writing it now, for changes a restart
    /// recovers by itself (a shard renamed into place is adopted by <see cref="Reconcile"/>), so that several of them
    /// cost one write.
    /// </summary>
    public void MarkUnsaved(DateTimeOffset at) => UnsavedSince ??= at;

    public void SaveIfChanged()
    {
        if (HasUnsavedChanges)
        {
            Save();
        }
    }

    /// <summary>
    /// Takes a newer verified manifest: keeps held shards whose name and SHA-256 are unchanged, saves the state, then
    /// deletes every file of the dataset the new manifest does not reference.
    /// </summary>
    public DatasetHoldings Accept(SignedManifestMessage signed)
    {
        var manifest = signed.Manifest;
        var old = Find(manifest.Dataset);
        var holdings = new DatasetHoldings { Signed = signed };
        if (old is not null)
        {
            foreach (var shard in manifest.Shards)
            {
                var previous = old.Signed.Manifest.Shards.Find(s => s.Name == shard.Name && s.Sha256 == shard.Sha256);
                var held = previous is null ? null : old.Find(previous.Id);
                if (held is not null)
                {
                    holdings.Shards.Add(new HeldShard { Id = shard.Id, Bytes = held.Bytes, Precision = held.Precision });
                }
            }
        }

        if (old is not null)
        {
            KeepLayers(old, holdings);
        }

        State.Datasets[manifest.Dataset] = holdings;
        Directory.CreateDirectory(DatasetDirectory(manifest.Dataset));
        Save();
        RemoveUnreferencedFiles(manifest.Dataset, holdings, keepPartials: false);
        return holdings;
    }

    private void Reconcile(ManifestVerifier verifier)
    {
        var changed = false;
        foreach (var (name, holdings) in State.Datasets.ToArray())
        {
            if (holdings.Signed?.Manifest is null || holdings.Signed.Validate() is not null || !verifier.TryVerify(holdings.Signed, out _))
            {
                _logger.LogWarning("Dropped dataset {Dataset} from the device state: its stored manifest does not verify with the pinned key", name);
                State.Datasets.Remove(name);
                changed = true;
                continue;
            }

            var manifest = holdings.Signed.Manifest;
            foreach (var held in holdings.Shards.ToArray())
            {
                var shard = manifest.FindShard(held.Id);
                if (shard is null)
                {
                    holdings.Shards.Remove(held);
                    changed = true;
                    continue;
                }

                if (held.Precision == HeldShard.Dropped)
                {
                    continue;
                }

                var file = new FileInfo(ShardPath(name, shard));
                if (!file.Exists)
                {
                    _logger.LogWarning("Shard {Dataset}/{Shard} is recorded but its file is gone: it will be fetched again", name, shard.Name);
                    holdings.Shards.Remove(held);
                    changed = true;
                }
                else if (file.Length != held.Bytes)
                {
                    // Only this process renames into final names, and only complete, verified or requantized files.
                    held.Bytes = file.Length;
                    held.Precision = file.Length == shard.Size ? HeldShard.Full : HeldShard.Requantized;
                    changed = true;
                }
            }

            foreach (var shard in manifest.Shards)
            {
                // A shard renamed into place just before a power cut, before the state recorded it.
                var path = ShardPath(name, shard);
                if (holdings.Find(shard.Id) is null && File.Exists(path) && new FileInfo(path).Length == shard.Size && HashOf(path) == shard.Sha256)
                {
                    holdings.Shards.Add(new HeldShard { Id = shard.Id, Bytes = shard.Size, Precision = HeldShard.Full });
                    changed = true;
                }
            }

            if (manifest.IsLayered)
            {
                changed |= ReconcileLayered(name, holdings);
            }

            RemoveUnreferencedFiles(name, holdings, keepPartials: true);
        }

        if (changed)
        {
            Save();
        }
    }

    private static string HashOf(string path)
    {
        using var stream = File.OpenRead(path);
        return Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(stream));
    }

    private void RemoveUnreferencedFiles(string dataset, DatasetHoldings holdings, bool keepPartials)
    {
        var directory = DatasetDirectory(dataset);
        if (!Directory.Exists(directory))
        {
            return;
        }

        var keep = new HashSet<string>(StringComparer.Ordinal);
        if (holdings.Signed.Manifest.IsLayered && holdings.LayersApplied > 0)
        {
            var layered = ProgressiveHoldingsPaths(dataset);
            keep.Add(Path.GetFileName(layered.Shard));
            keep.Add(Path.GetFileName(layered.Held));
        }

        foreach (var shard in holdings.Signed.Manifest.Shards)
        {
            var held = holdings.Find(shard.Id);
            if (held is not null && held.Precision != HeldShard.Dropped)
            {
                keep.Add(shard.Name);
            }

            // A shard held in full needs no partial file or journal: a process killed between its rename and the
            // journal's deletion leaves one behind, and nothing else would ever remove it. Nor does a layer already
            // applied (a prefix installed in its place, say).
            if (keepPartials && held?.Precision != HeldShard.Full && !(shard.Layer is not null && shard.Id < holdings.LayersApplied))
            {
                keep.Add(shard.Name + ".partial");
                keep.Add(shard.Name + ".chunks");
            }
        }

        var removed = false;
        foreach (var path in Directory.EnumerateFiles(directory))
        {
            if (!keep.Contains(Path.GetFileName(path)))
            {
                File.Delete(path);
                removed = true;
            }
        }

        if (removed)
        {
            DurableFile.SyncDirectory(directory);
        }
    }
}
