using System.Security.Cryptography;
using System.Threading.Channels;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Answers pulls one at a time, apart from the message loop so that a large repair does not hold up state reports,
/// and records each repair (chunks and bytes it cost) in the store under a key derived from the pull's bytes: a
/// redelivered pull is answered again but counted once.
/// </summary>
public sealed class RepairWorker
{
    private readonly Channel<MqttMessage> _pulls;
    private readonly RepairResponder _responder;
    private readonly PublishMeter _meter;
    private readonly StoreDatasetCatalog _catalog;
    private readonly IFleetStore _store;
    private readonly string _fleet;
    private readonly TimeProvider _time;
    private readonly ILogger<RepairWorker> _logger;

    public RepairWorker(
        RepairResponder responder, PublishMeter meter, StoreDatasetCatalog catalog, IFleetStore store, string fleet, int capacity,
        TimeProvider time, ILogger<RepairWorker> logger)
    {
        _responder = responder;
        _meter = meter;
        _catalog = catalog;
        _store = store;
        _fleet = fleet;
        _time = time;
        _logger = logger;
        _pulls = Channel.CreateBounded<MqttMessage>(
            new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped =>
            {
                _logger.LogWarning("Dropped a pull on {Topic}: {Capacity} pulls already wait (the device asks again)", dropped.Topic, capacity);
                dropped.Dispose();
            });
    }

    public long PullsAnswered { get; private set; }

    /// <summary>Queues a received pull; on success the worker owns the message and disposes it once answered.</summary>
    public bool TryEnqueue(MqttMessage pull) => _pulls.Writer.TryWrite(pull);

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        await foreach (var pull in _pulls.Reader.ReadAllAsync(cancellationToken))
        {
            using (pull)
            {
                try
                {
                    await AnswerAsync(pull, cancellationToken);
                }
                catch (Exception ex) when (ex is MqttException or IOException or InvalidDataException or FleetStoreException or UnauthorizedAccessException)
                {
                    _logger.LogError("Pull on {Topic} not answered: {Error}", pull.Topic, ex.Message);
                }
            }
        }
    }

    private async Task AnswerAsync(MqttMessage pull, CancellationToken cancellationToken)
    {
        // A pull for a version the cache has not seen yet may come from a publish moments ago: look in the store first.
        if (SyncMessageCodec.TryReadPullRequest(pull.Payload.Span, out var request, out _) && !_catalog.Covers(request.Dataset, request.ManifestVersion))
        {
            await _catalog.RefreshAsync(cancellationToken);
        }

        var messagesBefore = _meter.Messages;
        var bytesBefore = _meter.PayloadBytes;
        await _responder.HandleAsync(pull, cancellationToken);
        var chunks = _meter.Messages - messagesBefore;
        if (request is null || chunks == 0)
        {
            return;
        }

        PullsAnswered++;
        var key = Convert.ToHexStringLower(SHA256.HashData(pull.Payload.Span)[..16]);
        await _store.RecordRepairAsync(
            new RepairRecord(_fleet, request.Device, request.Dataset, request.ManifestVersion, key, _time.GetUtcNow(), chunks, _meter.PayloadBytes - bytesBefore),
            cancellationToken);
    }
}
