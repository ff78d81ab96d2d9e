using DatasetQuant.Mqtt;
using DatasetQuant.Sync.IO;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

public sealed partial class DeviceSyncEngine
{
    private bool _budgetReportDirty;

    /// <summary>Mixing rules of held generators by dataset, for the manifest version they were read from.</summary>
    private readonly Dictionary<string, (long Version, IReadOnlyList<(long ShardBytes, double Ratio)>? Rule)> _generatorRules = new(StringComparer.Ordinal);

    /// <summary>A generator's manifest file was stored: its rule may take the generator's share away (applied at the next tick).</summary>
    private bool _generatorRuleArrived;

    /// <summary>The budget in force: the coordinator's desired bytes capped by the flash quota; null for none.</summary>
    public long? EffectiveBudget => BudgetPlan.Effective(_store.State.BudgetBytes, _options.FlashQuotaBytes);

    /// <summary>
    /// What a shard may occupy. A generator is all or nothing (its files cannot be requantized): held whole when it fits
    /// the budget, dropped when it does not, and its model not held when its mixing rule gives 0 at the shard bytes
    /// the device would hold beside it (it keeps only the small manifest file that says so). Quantized shards share
    /// what the budget leaves after the generators held.
    /// </summary>
    private long TargetOf(DatasetManifest manifest, ManifestShard shard)
    {
        if (!manifest.IsGenerator)
        {
            return BudgetPlan.Target(shard, ShardBudget(), BudgetPlan.TotalFullBytes(_store.State.Datasets.Values));
        }

        if (EffectiveBudget is { } budget && budget < manifest.TotalBytes)
        {
            return 0;
        }

        return IsIdleGenerator(manifest) && GeneratorRuleFile.Find(manifest)?.Id != shard.Id ? 0 : shard.Size;
    }

    /// <summary>The budget quantized shards share: what the generators held leave, less the rule files of idle ones.</summary>
    private long? ShardBudget()
    {
        var datasets = _store.State.Datasets.Values;
        long idleBytes = 0;
        var held = new List<DatasetHoldings>(datasets.Count);
        foreach (var holdings in datasets)
        {
            var manifest = holdings.Signed.Manifest;
            if (manifest.IsGenerator && IsIdleGenerator(manifest))
            {
                idleBytes += GeneratorRuleFile.Find(manifest)?.Size ?? 0;
            }
            else
            {
                held.Add(holdings);
            }
        }

        return BudgetPlan.ShardBudget(EffectiveBudget, held) - idleBytes;
    }

    /// <summary>A generator that fits the budget but whose rule gives it no share at the shard bytes beside it.</summary>
    private bool IsIdleGenerator(DatasetManifest generator)
    {
        if (!_options.FollowGeneratorMixingRule || (EffectiveBudget is { } budget && budget < generator.TotalBytes) || RuleOf(generator) is not { } rule)
        {
            return false;
        }

        var shardFullBytes = BudgetPlan.TotalFullBytes(_store.State.Datasets.Values);
        return !BudgetPlan.UsesGenerator(generator.TotalBytes, EffectiveBudget, shardFullBytes, bytes => GeneratorRuleFile.RatioFor(rule, bytes));
    }

    /// <summary>The rule in a generator's manifest file once that file is held; null before, or when it has none.</summary>
    private IReadOnlyList<(long ShardBytes, double Ratio)>? RuleOf(DatasetManifest generator)
    {
        if (_generatorRules.TryGetValue(generator.Dataset, out var cached) && cached.Version == generator.Version)
        {
            return cached.Rule;
        }

        var file = GeneratorRuleFile.Find(generator);
        if (file is null || _store.Find(generator.Dataset)?.Find(file.Id) is not { Precision: HeldShard.Full })
        {
            return null;
        }

        IReadOnlyList<(long, double)>? rule = null;
        try
        {
            rule = GeneratorRuleFile.Read(_store.ShardPath(generator.Dataset, file));
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            // The file passed its signed SHA-256, so this is a publisher's mistake: hold the generator as without a rule.
            _logger.LogWarning("Generator {Dataset} version {Version}: its mixing rule cannot be read ({Error}); it is held as if it had none",
                generator.Dataset, generator.Version, ex.Message);
        }

        _generatorRules[generator.Dataset] = (generator.Version, rule);
        return rule;
    }

    private async Task HandleBudgetDesiredAsync(MqttMessage message, CancellationToken cancellationToken)
    {
        if (!SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var desired, out var error))
        {
            _logger.LogWarning("Ignored budget on {Topic}: {Error}", message.Topic, error);
            return;
        }

        if (desired.Device != DeviceId)
        {
            _logger.LogWarning("Ignored budget on {Topic}: field 'device' is '{Device}', not this device", message.Topic, desired.Device);
            return;
        }

        var applied = _store.State.BudgetVersion;
        if (desired.Version <= applied)
        {
            if (desired.Version < applied)
            {
                _logger.LogInformation("Ignored budget on {Topic}: field 'version' is {Version}, below the version {Applied} applied", message.Topic, desired.Version, applied);
            }

            return;
        }

        _store.State.BudgetVersion = desired.Version;
        _store.State.BudgetBytes = desired.Bytes;
        _store.Save();
        _logger.LogInformation("Budget version {Version} for {Device}: {Bytes} bytes (held {Held})", desired.Version, DeviceId, desired.Bytes, _store.HeldBytes);
        ApplyBudget("budget");
        _stateDirty = true;
        await PublishBudgetReportedAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Brings every dataset to the budget: shrinks held shards above their target in place, marks shards whose
    /// target rose well above what is held for a re-fetch, and drops shards whose target is zero.
    /// </summary>
    private void ApplyBudget(string reason)
    {
        // A shard being committed is held or not once its commit is taken; decide on the outcome, not before it.
        FinishCommits(wait: true);
        var changedDatasets = new List<DatasetHoldings>();
        foreach (var (name, holdings) in _store.State.Datasets)
        {
            if (holdings.Signed.Manifest.IsLayered)
            {
                if (ShapeLayered(holdings))
                {
                    changedDatasets.Add(holdings);
                }

                continue;
            }

            var changed = false;
            var chunkSize = holdings.Signed.Manifest.ChunkSize;
            foreach (var shard in holdings.Signed.Manifest.Shards)
            {
                var target = TargetOf(holdings.Signed.Manifest, shard);
                var held = holdings.Find(shard.Id);
                if (held is null)
                {
                    if (target == 0)
                    {
                        LogIdleGenerator(holdings.Signed.Manifest, shard, "is not fetched");
                        holdings.Shards.Add(new HeldShard { Id = shard.Id, Bytes = 0, Precision = HeldShard.Dropped });
                        changed = true;
                    }
                }
                else if (held.Bytes > target)
                {
                    changed |= ShapeShard(holdings, shard, target);
                }
                else if (BudgetPlan.WorthRefetch(shard, held.Bytes, target, chunkSize))
                {
                    if (held.Precision == HeldShard.Dropped)
                    {
                        holdings.Shards.Remove(held);
                        changed = true;
                    }
                    else if (_refetch.Add((name, shard.Id)))
                    {
                        _logger.LogInformation("Shard {Dataset}/{Shard}: budget allows {Target} bytes, {Held} held; fetching the finer shard", name, shard.Name, target, held.Bytes);
                    }

                    SchedulePull(name, _time.GetUtcNow() + _options.PullQuietPeriod);
                }
                else if (_refetch.Remove((name, shard.Id)) && _assemblies.Remove((name, shard.Id), out var assembly))
                {
                    assembly.Discard();
                }
            }

            if (changed)
            {
                changedDatasets.Add(holdings);
            }
        }

        if (changedDatasets.Count == 0)
        {
            return;
        }

        _store.Save();
        _stateDirty = true;
        foreach (var holdings in changedDatasets)
        {
            if (IsComplete(holdings) && reason != "startup")
            {
                RaiseDatasetStored(holdings, "budget");
            }
        }
    }

    /// <summary>Says why a generator's model is not held (or deleted) when its rule gives it no share.</summary>
    private void LogIdleGenerator(DatasetManifest manifest, ManifestShard shard, string action)
    {
        if (manifest.IsGenerator && IsIdleGenerator(manifest))
        {
            _logger.LogInformation(
                "Generator {Dataset} version {Version}: its mixing rule gives a share of 0 at the shard bytes this budget leaves beside it; {File} ({Bytes} bytes) {Action} and the shards get its bytes",
                manifest.Dataset, manifest.Version, shard.Name, shard.Size, action);
        }
    }

    /// <summary>Shrinks one held shard to at most <paramref name="target"/> bytes; false when it already fits.</summary>
    private bool ShapeShard(DatasetHoldings holdings, ManifestShard shard, long target)
    {
        var held = holdings.Find(shard.Id);
        if (held is null || held.Bytes <= target)
        {
            return false;
        }

        var dataset = holdings.Signed.Manifest.Dataset;
        var path = _store.ShardPath(dataset, shard);
        if (target > 0 && _requantizer is not null)
        {
            var temp = path + ".requant.tmp";
            try
            {
                var size = _requantizer.Requantize(path, temp, target);
                using (var written = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
                {
                    if (written.Length != size || size > target)
                    {
                        throw new InvalidDataException($"requantizer wrote {written.Length} bytes (said {size}) for a target of {target}");
                    }

                    written.Flush(flushToDisk: true);
                }

                DurableFile.CommitTemp(temp, path);
                _logger.LogInformation("Requantized shard {Dataset}/{Shard} in place: {From} -> {To} bytes (target {Target})", dataset, shard.Name, held.Bytes, size, target);
                held.Bytes = size;
                held.Precision = size == shard.Size ? HeldShard.Full : HeldShard.Requantized;
                _store.Save();
                return true;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                File.Delete(temp);
                _logger.LogWarning("Shard {Dataset}/{Shard} cannot be requantized to {Target} bytes ({Error}); dropping it", dataset, shard.Name, target, ex.Message);
            }
        }
        else if (target > 0)
        {
            _logger.LogWarning("No requantizer is available: dropping shard {Dataset}/{Shard} ({Bytes} bytes) to honour the budget", dataset, shard.Name, held.Bytes);
        }

        if (target == 0)
        {
            LogIdleGenerator(holdings.Signed.Manifest, shard, "is deleted");
        }

        DurableFile.Delete(path);
        held.Bytes = 0;
        held.Precision = HeldShard.Dropped;
        _store.Save();
        return true;
    }

    private async Task PublishBudgetReportedAsync(CancellationToken cancellationToken)
    {
        var connection = _connection;
        if (connection is null || _store.State.BudgetVersion == 0)
        {
            _budgetReportDirty = false;
            return;
        }

        var reported = new BudgetReportedMessage
        {
            Device = DeviceId,
            Version = _store.State.BudgetVersion,
            BudgetBytes = EffectiveBudget ?? 0,
            HeldBytes = RefreshHeldBytes(),
            Status = _refetch.Count > 0 || _store.State.Datasets.Values.Any(h => h.Signed.Manifest.IsLayered && !IsComplete(h))
                ? BudgetReportedMessage.Applying : BudgetReportedMessage.Applied,
            UpdatedUtc = _time.GetUtcNow(),
        };
        var message = new MqttMessage(_topics.BudgetReported(DeviceId), SyncMessageCodec.Serialize(reported), MqttQos.AtLeastOnce, Retain: true)
        {
            ContentType = "application/json",
        };
        try
        {
            await connection.PublishAsync(message, cancellationToken).ConfigureAwait(false);
            _budgetReportDirty = false;
        }
        catch (MqttException ex)
        {
            _logger.LogWarning("Budget report of device {Device} not published: {Error}", DeviceId, ex.Message);
        }
    }
}
