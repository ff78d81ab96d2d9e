using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Threading.Channels;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Answers pulls one at a time, apart from the message loop so that a large repair does not hold up state reports.
/// Each repair is recorded in the store before its chunks go out, under a key derived from the pull's bytes: a
/// redelivered pull, or the same pull answered again by another coordinator after this one died, is counted once, and
/// a repair a device received always has its row. A pull whose exact bytes already wait in the queue is dropped: a
/// device that asks again because the answer is slow in coming would otherwise make the queue, and the wait, longer
/// with every retry.
/// </summary>
public sealed class RepairWorker
{
    private readonly Channel<(MqttMessage Pull, string Key)> _pulls;
    private readonly ConcurrentDictionary<string, byte> _queued = new(StringComparer.Ordinal);
    private readonly RepairResponder _responder;
    private readonly StoreDatasetCatalog _catalog;
    private readonly IFleetStore _store;
    private readonly string _fleet;
    private readonly TimeProvider _time;
    private readonly CoordinatorCounters _counters;
    private readonly ILogger<RepairWorker> _logger;

    public RepairWorker(
        RepairResponder responder, StoreDatasetCatalog catalog, IFleetStore store, string fleet, int capacity,
        TimeProvider time, CoordinatorCounters counters, ILogger<RepairWorker> logger)
    {
        _responder = responder;
        _catalog = catalog;
        _store = store;
        _fleet = fleet;
        _time = time;
        _counters = counters;
        _logger = logger;
        _pulls = Channel.CreateBounded<(MqttMessage Pull, string Key)>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                _queued.TryRemove(dropped.Key, out _);
                _counters.PullDropped();
                _logger.LogWarning("Dropped a pull on {Topic}: {Capacity} pulls already wait (the device asks again)", dropped.Pull.Topic, capacity);
                dropped.Pull.Dispose();
            });
    }

    public long PullsAnswered { get; private set; }

    /// <summary>Pulls waiting for an answer.</summary>
    public int Queued => _pulls.Reader.Count;

    /// <summary>
    /// Queues a received pull; on success the worker owns the message and disposes it once answered. False when the
    /// same pull waits already (the caller keeps the message).
    /// </summary>
    public bool TryEnqueue(MqttMessage pull)
    {
        var key = RequestKey(pull);
        if (!_queued.TryAdd(key, 0))
        {
            _counters.PullDuplicate();
            _logger.LogDebug("Pull on {Topic} already waits for its answer; the repeat is dropped", pull.Topic);
            return false;
        }

        if (_pulls.Writer.TryWrite((pull, key)))
        {
            return true;
        }

        _queued.TryRemove(key, out _);
        return false;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var (pull, key) in _pulls.Reader.ReadAllAsync(cancellationToken))
        {
            // From here on a repeat of this pull is queued again: it may come after this answer went out.
            _queued.TryRemove(key, out _);
            using (pull)
            {
                try
                {
                    await AnswerAsync(pull, key, cancellationToken);
                }
                catch (Exception ex) when (ex is MqttException or IOException or InvalidDataException or FleetStoreException or UnauthorizedAccessException)
                {
                    _counters.PullFailed();
                    _logger.LogError("Pull on {Topic} not answered: {Error}", pull.Topic, ex.Message);
                }
            }
        }
    }

    /// <summary>What the store files a pull under: the first 16 bytes of the SHA-256 of its bytes, in hex.</summary>
    private static string RequestKey(MqttMessage pull) => Convert.ToHexStringLower(SHA256.HashData(pull.Payload.Span)[..16]);

    private async Task AnswerAsync(MqttMessage pull, string key, CancellationToken cancellationToken)
    {
        // A pull for a version the cache has not seen yet may come from a publish moments ago: look in the store first.
        if (SyncMessageCodec.TryReadPullRequest(pull.Payload.Span, out var request, out _) && !_catalog.Covers(request.Dataset, request.ManifestVersion))
        {
            await _catalog.RefreshAsync(cancellationToken);
        }

        if (_responder.TryPlan(pull) is not { } plan)
        {
            return;
        }

        await _store.RecordRepairAsync(
            new RepairRecord(_fleet, plan.Pull.Device, plan.Pull.Dataset, plan.Pull.ManifestVersion, key, _time.GetUtcNow(), plan.Chunks, plan.Bytes),
            cancellationToken);
        await _responder.AnswerAsync(plan, cancellationToken);
        PullsAnswered++;
        _counters.RepairAnswered(plan.Chunks, plan.Bytes);
    }
}
