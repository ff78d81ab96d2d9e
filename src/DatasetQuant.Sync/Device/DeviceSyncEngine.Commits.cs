using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// Committing a complete shard (SHA-256 over the partial file, fsync, rename, fsync of the directory) waits for the
/// flash, so it runs beside the loop: the next shard's chunks keep being stored meanwhile. One committer per engine
/// takes every shard that completed while it was busy as one group (<see cref="ShardAssembly.CommitTogether"/>: one
/// directory fsync for all their renames), so shards that complete together do not queue their fsyncs one by one
/// on the flash. The loop takes the results and alone updates the holdings; chunks and pulls leave a committing shard
/// alone (<see cref="NeedsFetch"/>).
/// </summary>
public sealed partial class DeviceSyncEngine
{
    private readonly Dictionary<(string Dataset, int Shard), PendingCommit> _commits = [];

    // Complete shards not yet taken by the committer, shared with it under its own lock.
    private readonly List<(ShardAssembly Assembly, TaskCompletionSource<string?> Result)> _commitQueue = [];
    private bool _committerRunning;

    private void StartCommit(DatasetHoldings holdings, ManifestShard shard, ShardAssembly assembly)
    {
        var key = (holdings.Signed.Manifest.Dataset, shard.Id);
        _assemblies.Remove(key);
        var result = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        bool startCommitter;
        lock (_commitQueue)
        {
            _commitQueue.Add((assembly, result));
            startCommitter = !_committerRunning;
            _committerRunning = true;
        }

        if (startCommitter)
        {
            _ = Task.Run(CommitQueued);
        }

        _commits[key] = new PendingCommit(holdings, shard, result.Task);
    }

    /// <summary>The committer: commits what is queued, as one group, until the queue is empty.</summary>
    private void CommitQueued()
    {
        while (true)
        {
            (ShardAssembly Assembly, TaskCompletionSource<string?> Result)[] group;
            lock (_commitQueue)
            {
                if (_commitQueue.Count == 0)
                {
                    _committerRunning = false;
                    return;
                }

                group = [.. _commitQueue];
                _commitQueue.Clear();
            }

            try
            {
                var batch = ShardAssembly.CommitTogether(group.Select(g => g.Assembly).ToArray());
                for (var i = 0; i < group.Length; i++)
                {
                    var outcome = batch.Outcomes[i];
                    if (outcome.Error is { } error)
                    {
                        group[i].Result.TrySetException(error);
                    }
                    else
                    {
                        group[i].Result.TrySetResult(outcome.Committed ? null : outcome.ActualSha256);
                    }
                }
            }
            catch (Exception ex)
            {
                // Not an I/O error of one shard (those are in the outcomes): fail the group, keep the committer going.
                foreach (var (_, result) in group)
                {
                    result.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>A task that completes when any commit does; null when none is running.</summary>
    private Task? AnyCommitDone() => _commits.Count == 0 ? null : Task.WhenAny(_commits.Values.Select(c => c.Commit));

    /// <summary>
    /// Takes the results of finished commits (of <paramref name="dataset"/> only, when given); with
    /// <paramref name="wait"/> it first waits for those still running, before anything else touches their files.
    /// </summary>
    private void FinishCommits(bool wait = false, string? dataset = null)
    {
        if (_commits.Count == 0)
        {
            return;
        }

        foreach (var (key, pending) in _commits.ToArray())
        {
            if (dataset is not null && key.Dataset != dataset)
            {
                continue;
            }

            if (wait)
            {
                try
                {
                    pending.Commit.Wait();
                }
                catch (AggregateException)
                {
                    // Taken (and logged) with the result just below.
                }
            }

            if (!pending.Commit.IsCompleted)
            {
                continue;
            }

            _commits.Remove(key);
            try
            {
                FinishCommit(pending.Holdings, pending.Shard, pending.Commit.GetAwaiter().GetResult());
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The partial file and its journal stay: the next pull finds the shard complete and commits again.
                _logger.LogError(ex, "Flash error while committing shard {Dataset}/{Shard}; trying again after the next pull", key.Dataset, pending.Shard.Name);
                SchedulePull(key.Dataset, _time.GetUtcNow() + _options.PullQuietPeriod);
            }
        }
    }

    /// <param name="mismatch">Null when the shard was committed; else the SHA-256 the discarded bytes had.</param>
    private void FinishCommit(DatasetHoldings holdings, ManifestShard shard, string? mismatch)
    {
        var dataset = holdings.Signed.Manifest.Dataset;
        if (mismatch is not null)
        {
            _logger.LogError(
                "Rejected shard {Dataset}/{Shard} of version {Version}: SHA-256 {Actual} does not match the manifest's {Expected}; discarded, fetching it again",
                dataset, shard.Name, holdings.Signed.Manifest.Version, mismatch, shard.Sha256);
            if (shard.Prefix is not null)
            {
                NotePrefixMismatch(holdings, shard);
            }

            SchedulePull(dataset, _time.GetUtcNow() + _options.PullQuietPeriod);
            return;
        }

        if (holdings.Signed.Manifest.IsLayered)
        {
            FinishLayerCommit(holdings, shard);
            return;
        }

        var wasRefetch = _refetch.Remove((dataset, shard.Id));
        holdings.Shards.RemoveAll(s => s.Id == shard.Id);
        holdings.Shards.Add(new HeldShard { Id = shard.Id, Bytes = shard.Size, Precision = HeldShard.Full });

        // The shard file is durable already (fsynced, renamed, directory fsynced); a power cut before the state file
        // records it costs a hash on start-up (DeviceStore adopts it), so the state is written once the dataset is
        // complete (or the transfer pauses: SaveHoldings), not after every shard.
        _store.MarkUnsaved(_time.GetUtcNow());
        _logger.LogInformation("Stored shard {Dataset}/{Shard}: {Bytes} bytes, SHA-256 verified", dataset, shard.Name, shard.Size);

        // A budget below the full size: requantize the fresh copy down to its share.
        ShapeShard(holdings, shard, TargetOf(holdings.Signed.Manifest, shard));
        _generatorRuleArrived |= holdings.Signed.Manifest.IsGenerator && GeneratorRuleFile.Find(holdings.Signed.Manifest)?.Id == shard.Id;
        if (IsComplete(holdings) && !HasPendingFetch(dataset))
        {
            // State first: a handler of DatasetStored may read sync-state.json or be cut by a power loss.
            SaveHoldings(force: true);
            RaiseDatasetStored(holdings, wasRefetch ? "budget" : "received");
            _stateDirty = true;
        }
        else
        {
            // Shards of one push complete a few hundred milliseconds apart: one report soon covers several of them.
            ReportProgressSoon();
        }

        if (wasRefetch && _refetch.Count == 0)
        {
            _budgetReportDirty = true;
        }
    }

    private sealed record PendingCommit(DatasetHoldings Holdings, ManifestShard Shard, Task<string?> Commit);
}
