using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

public sealed partial class DeviceSyncEngine
{
    private static readonly TimeSpan MaxPullBackoff = TimeSpan.FromMinutes(1);

    private readonly Dictionary<(string Dataset, int Shard), ShardAssembly> _assemblies = [];
    private readonly Dictionary<string, PullSchedule> _pulls = new(StringComparer.Ordinal);
    private readonly HashSet<(string Dataset, int Shard)> _refetch = [];

    /// <summary>Pull requests this engine has sent (for tests and measurements).</summary>
    public int PullsSent { get; private set; }

    /// <summary>Chunks dropped unread because too many messages were waiting (they are pulled later).</summary>
    public long ChunksShed { get; private set; }

    /// <summary>Bytes of every chunk message this engine was given (frame headers, duplicates and chunks it ignored included).</summary>
    public long ChunkBytesReceived { get; private set; }

    private void HandleChunk(MqttMessage message)
    {
        ChunkBytesReceived += message.Payload.Length;
        if (!ChunkFrameReader.TryRead(message.Payload, out var header, out var payload, out var error))
        {
            _logger.LogWarning("Rejected chunk on {Topic}: {Error}; nothing stored", message.Topic, error);
            return;
        }

        var holdings = _store.Find(header.Dataset);
        if (holdings is null || holdings.Signed.Manifest.Version != header.ManifestVersion)
        {
            // Chunks of a version this device does not hold (yet, or any more) are normal during an update.
            _logger.LogDebug("Ignored chunk of {Dataset} version {Version}: not the version held", header.Dataset, header.ManifestVersion);
            return;
        }

        holdings.ReceivedBytes += message.Payload.Length;
        var manifest = holdings.Signed.Manifest;
        var shard = manifest.FindShard(header.ShardId);
        var chunkSize = manifest.ChunkSize;
        var misfit = shard is null ? $"field 'shardId' is {header.ShardId}, which the manifest does not list"
            : header.Offset % chunkSize != 0 || header.Offset >= shard.Size ? $"field 'offset' is {header.Offset}, no chunk's of a {shard.Size}-byte shard in chunks of {chunkSize}"
            : header.Length != Math.Min(chunkSize, shard.Size - header.Offset) ? $"field 'payloadLength' is {header.Length}, not the length of the chunk at offset {header.Offset}"
            : null;
        if (shard is null || misfit is not null)
        {
            _logger.LogWarning(
                "Rejected chunk on {Topic}: ChunkFrame: {Misfit} (dataset {Dataset} version {Version}, shard {Shard}); nothing stored",
                message.Topic, misfit, header.Dataset, header.ManifestVersion, header.ShardId);
            return;
        }

        if (!NeedsFetch(holdings, shard))
        {
            return;
        }

        var assembly = OpenAssembly(holdings, shard);
        if (_overloaded && !assembly.Received[(int)(header.Offset / chunkSize)])
        {
            // The flash is slower than the broadcast: keep memory bounded, pull this chunk when the rush is over.
            ChunksShed++;
        }
        else if (assembly.Write(header.Offset, payload.Span, header.PayloadCrc32C))
        {
            ChunksStored++;
        }

        if (_pulls.TryGetValue(header.Dataset, out var schedule))
        {
            // The last chunk a pull asked for brings the next pull at once; otherwise wait for the quiet period.
            var answered = header.IsRepair && schedule.Outstanding > 0 && --schedule.Outstanding == 0;
            schedule.NextAt = answered ? _time.GetUtcNow() : _time.GetUtcNow() + _options.PullQuietPeriod;
            schedule.Backoff = _options.PullRetryInterval;
        }
        else
        {
            SchedulePull(header.Dataset, _time.GetUtcNow() + _options.PullQuietPeriod);
        }

        if (assembly.IsComplete)
        {
            StartCommit(holdings, shard, assembly);
        }
    }

    private bool NeedsFetch(DatasetHoldings holdings, ManifestShard shard)
    {
        if (holdings.Signed.Manifest.IsLayered)
        {
            return NeedsLayer(holdings, shard);
        }

        var key = (holdings.Signed.Manifest.Dataset, shard.Id);
        return (holdings.Find(shard.Id) is null || _refetch.Contains(key)) && !_commits.ContainsKey(key);
    }

    private ShardAssembly OpenAssembly(DatasetHoldings holdings, ManifestShard shard)
    {
        var manifest = holdings.Signed.Manifest;
        var key = (manifest.Dataset, shard.Id);
        if (!_assemblies.TryGetValue(key, out var assembly))
        {
            assembly = ShardAssembly.Open(manifest.Dataset, shard, manifest.Version, manifest.ChunkSize, _store.ShardPath(manifest.Dataset, shard), out var resumed);
            if (resumed)
            {
                _logger.LogInformation(
                    "Resuming shard {Dataset}/{Shard}: {Have} of {Count} chunks already on flash; {Discarded} more failed their CRC (lost to a power cut) and will be fetched again",
                    manifest.Dataset, shard.Name, assembly.Received.SetCount, assembly.Received.Count, assembly.ChunksDiscarded);
            }

            _assemblies[key] = assembly;
        }

        return assembly;
    }

    private bool HasPendingFetch(string dataset)
    {
        foreach (var key in _refetch)
        {
            if (key.Dataset == dataset)
            {
                return true;
            }
        }

        return false;
    }

    private void SchedulePull(string dataset, DateTimeOffset at)
    {
        if (_pulls.TryGetValue(dataset, out var schedule))
        {
            schedule.NextAt = at;
            schedule.Backoff = _options.PullRetryInterval;
        }
        else
        {
            _pulls[dataset] = new PullSchedule { NextAt = at, Backoff = _options.PullRetryInterval };
        }
    }

    private void SchedulePullsForIncompleteDatasets()
    {
        var at = _time.GetUtcNow() + _options.PullQuietPeriod;
        foreach (var (name, holdings) in _store.State.Datasets)
        {
            if (!IsComplete(holdings) || HasPendingFetch(name))
            {
                SchedulePull(name, at);
            }
        }
    }

    private async Task SendDuePullsAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (_budgetReportDirty)
        {
            await PublishBudgetReportedAsync(cancellationToken).ConfigureAwait(false);
        }

        if (_store.State.BudgetVersion == 0 && now < _firstBudgetDeadline)
        {
            // A new device's first state report has just asked the coordinator for a budget: pulls wait for it (or for
            // the deadline, when none comes), so the device does not fetch what its quota alone keeps and then drop it.
            return;
        }

        foreach (var (dataset, schedule) in _pulls.ToArray())
        {
            if (now < schedule.NextAt)
            {
                continue;
            }

            var holdings = _store.Find(dataset);
            var chunks = 0;
            var pull = holdings is null ? null : BuildPull(holdings, out chunks);
            if (pull is null)
            {
                _pulls.Remove(dataset);
                if (holdings is { Signed.Manifest.IsLayered: true } && !IsComplete(holdings))
                {
                    // Nothing to ask for, yet not complete: what it needs is on flash already (a batch fetched before a
                    // prefix was refused, say).
                    ApplyReceivedLayers(holdings, "received");
                }

                continue;
            }

            schedule.NextAt = now + schedule.Backoff;
            schedule.Outstanding = chunks;
            schedule.Backoff = TimeSpan.FromTicks(Math.Min(schedule.Backoff.Ticks * 2, MaxPullBackoff.Ticks));
            var connection = _connection;
            if (connection is null)
            {
                return;
            }

            var message = new MqttMessage(_topics.DevicePull(DeviceId), SyncMessageCodec.Serialize(pull), MqttQos.AtLeastOnce) { ContentType = "application/json" };
            try
            {
                await connection.PublishAsync(message, cancellationToken).ConfigureAwait(false);
                PullsSent++;
                _logger.LogInformation(
                    "Pulled {Chunks} missing chunks of dataset {Dataset} version {Version} over {Shards} shards",
                    chunks, dataset, pull.ManifestVersion, pull.Shards.Count);
            }
            catch (MqttException ex)
            {
                _logger.LogWarning("Pull for dataset {Dataset} not published: {Error}", dataset, ex.Message);
            }
        }
    }

    private PullRequestMessage? BuildPull(DatasetHoldings holdings, out int chunks)
    {
        chunks = 0;
        var manifest = holdings.Signed.Manifest;
        var shards = new List<PullShard>();
        foreach (var shard in manifest.Shards)
        {
            if (!NeedsFetch(holdings, shard))
            {
                continue;
            }

            var assembly = OpenAssembly(holdings, shard);
            if (assembly.IsComplete)
            {
                // Every chunk was on flash but the power went before the rename.
                StartCommit(holdings, shard, assembly);
                continue;
            }

            var missing = assembly.Received.Invert();
            if (chunks + missing.SetCount > _options.MaxChunksPerPull)
            {
                missing = Take(missing, _options.MaxChunksPerPull - chunks);
            }

            if (missing.SetCount == 0)
            {
                break;
            }

            chunks += missing.SetCount;
            shards.Add(new PullShard { Id = shard.Id, Missing = missing.ToWire() });
        }

        return shards.Count == 0 ? null : new PullRequestMessage
        {
            Device = DeviceId,
            Dataset = manifest.Dataset,
            ManifestVersion = manifest.Version,
            Shards = shards,
        };
    }

    /// <summary>The first <paramref name="count"/> set bits of <paramref name="bitmap"/>.</summary>
    private static ChunkBitmap Take(ChunkBitmap bitmap, int count)
    {
        var taken = new ChunkBitmap(bitmap.Count);
        for (var i = 0; i < bitmap.Count && taken.SetCount < count; i++)
        {
            if (bitmap[i])
            {
                taken.Set(i);
            }
        }

        return taken;
    }

    private void CloseAssemblies(string? dataset = null)
    {
        foreach (var (key, assembly) in _assemblies.ToArray())
        {
            if (dataset is null || key.Dataset == dataset)
            {
                assembly.Dispose();
                _assemblies.Remove(key);
            }
        }
    }

    private sealed class PullSchedule
    {
        public DateTimeOffset NextAt { get; set; }

        public TimeSpan Backoff { get; set; }

        /// <summary>Chunks of the last pull not yet received.</summary>
        public int Outstanding { get; set; }
    }
}
