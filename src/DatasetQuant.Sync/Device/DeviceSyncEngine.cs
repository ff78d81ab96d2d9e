using System.Threading.Channels;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Sync.Device;

/// <summary>
/// The device side of the protocol over one MQTT session at a time: takes verified manifests and budgets, assembles
/// shards from broadcast and repair chunks, pulls what it lacks once the broadcast is quiet, shapes its holdings to
/// its budget and reports its state. Everything runs on the loop of <see cref="RunAsync"/>; the data directory
/// carries all state across sessions and restarts. docs/protocol.md, "Device".
/// </summary>
public sealed partial class DeviceSyncEngine : IDisposable
{
    private readonly DeviceSyncOptions _options;
    private readonly ManifestVerifier _verifier;
    private readonly IShardRequantizer? _requantizer;
    private readonly DeviceSyncEvents _events;
    private readonly IDeviceStateContributor[] _contributors;
    private readonly Dictionary<string, IDeviceTopicHandler> _topicHandlers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly SyncTopics _topics;
    private readonly DeviceStore _store;

    /// <summary>How long holdings changed by a committed shard may wait for the state file during a transfer.</summary>
    internal static readonly TimeSpan MaxStateWriteDelay = TimeSpan.FromSeconds(10);

    /// <summary>How soon a state report follows a stored shard while the rest of its dataset is still arriving.</summary>
    internal static readonly TimeSpan ProgressReportDelay = TimeSpan.FromSeconds(1);

    private IMqttConnection? _connection;
    private Task<bool>? _stateReport;
    private volatile bool _republish;
    private bool _overloaded;
    private bool _stateDirty = true;
    private DateTimeOffset _nextStateReport;
    private DateTimeOffset _firstBudgetDeadline;
    private long _heldBytes;

    public DeviceSyncEngine(
        DeviceSyncOptions options,
        ManifestVerifier verifier,
        IShardRequantizer? requantizer,
        DeviceSyncEvents events,
        IEnumerable<IDeviceStateContributor> contributors,
        ILogger<DeviceSyncEngine> logger,
        TimeProvider? time = null,
        IEnumerable<IDeviceTopicHandler>? topicHandlers = null)
    {
        _options = options;
        _verifier = verifier;
        _requantizer = requantizer;
        _events = events;
        _contributors = contributors.ToArray();
        _logger = logger;
        _time = time ?? TimeProvider.System;
        _topics = new SyncTopics(options.Fleet);
        _topicHandlers = DeviceTopicHandlers.ByTopic(topicHandlers ?? [], _topics);
        _store = new DeviceStore(options.DataDirectory, verifier, logger);
        ApplyBudget("startup");
        RefreshHeldBytes();
    }

    public string DeviceId => _options.DeviceId;

    /// <summary>
    /// Bytes of held shards (what the state document reports as <c>heldBytes</c>), as of the loop's last tick: the
    /// holdings change on the loop, so other threads read this snapshot rather than the lists it is summed from.
    /// </summary>
    public long HeldBytes => Volatile.Read(ref _heldBytes);

    /// <summary>Chunks written to flash since this engine was created (duplicates not counted).</summary>
    public long ChunksStored { get; private set; }

    /// <summary>The offline state document, used as the session's last will (retained).</summary>
    public static MqttMessage CreateWill(DeviceSyncOptions options)
    {
        var offline = new DeviceStateMessage { Device = options.DeviceId, Status = DeviceStateMessage.Offline };
        return new MqttMessage(new SyncTopics(options.Fleet).DeviceState(options.DeviceId), SyncMessageCodec.Serialize(offline), MqttQos.AtLeastOnce, Retain: true)
        {
            ContentType = "application/json",
        };
    }

    /// <summary>
    /// Runs the protocol on <paramref name="connection"/> until it is cancelled or the session's message channel
    /// completes. Call again with a new session to continue; state is on flash.
    /// </summary>
    public async Task RunAsync(IMqttConnection connection, CancellationToken cancellationToken)
    {
        _connection = connection;
        connection.StateChanged += OnConnectionStateChanged;
        try
        {
            await connection.SubscribeAsync(_topics.BudgetDesired(DeviceId), MqttQos.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            await connection.SubscribeAsync(_topics.AllManifests, MqttQos.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            await connection.SubscribeAsync(_topics.AllDatasetChunks, MqttQos.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            await connection.SubscribeAsync(_topics.DeviceChunks(DeviceId), MqttQos.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            foreach (var topic in _topicHandlers.Keys)
            {
                await connection.SubscribeAsync(topic, MqttQos.AtLeastOnce, cancellationToken).ConfigureAwait(false);
            }

            await PublishStateAsync().ConfigureAwait(false);
            await PublishBudgetReportedAsync(cancellationToken).ConfigureAwait(false);
            _firstBudgetDeadline = _time.GetUtcNow() + _options.FirstBudgetWait;
            SchedulePullsForIncompleteDatasets();
            await LoopAsync(connection.Messages, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            connection.StateChanged -= OnConnectionStateChanged;
            _connection = null;
        }
    }

    /// <summary>Publishes the offline state (retained) before a clean disconnect, which sends no will.</summary>
    public async Task PublishOfflineAsync(IMqttConnection connection, CancellationToken cancellationToken) =>
        await connection.PublishAsync(CreateWill(_options), cancellationToken).ConfigureAwait(false);

    public void Dispose()
    {
        FinishCommits(wait: true);
        SaveHoldings(force: true);
        CloseAssemblies();
        RefreshHeldBytes();
    }

    private async Task LoopAsync(ChannelReader<MqttMessage> reader, CancellationToken cancellationToken)
    {
        Task<bool>? waiting = null;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var handled = 0;
            while (handled < 256 && reader.TryRead(out var message))
            {
                // The loop owns each message it reads: nothing below keeps its payload, so its pooled buffer goes back
                // as soon as the message is handled (chunks are written to the partial file, the rest is parsed).
                using (message)
                {
                    _overloaded = reader.CanCount && reader.Count > _options.MaxQueuedMessages;
                    await HandleAsync(message, cancellationToken).ConfigureAwait(false);
                }

                handled++;
            }

            await TickAsync(cancellationToken).ConfigureAwait(false);
            if (handled > 0)
            {
                continue;
            }

            waiting ??= reader.WaitToReadAsync(cancellationToken).AsTask();
            if (!waiting.IsCompleted)
            {
                var delay = Task.Delay(TimeSpan.FromMilliseconds(100), _time, cancellationToken);
                await (AnyCommitDone() is { } commit ? Task.WhenAny(waiting, delay, commit) : Task.WhenAny(waiting, delay)).ConfigureAwait(false);
            }

            if (waiting.IsCompleted)
            {
                if (!await waiting.ConfigureAwait(false))
                {
                    _logger.LogInformation("The MQTT session of device {Device} ended", DeviceId);
                    return;
                }

                waiting = null;
            }
        }
    }

    private async Task HandleAsync(MqttMessage message, CancellationToken cancellationToken)
    {
        var topic = _topics.Parse(message.Topic);
        try
        {
            switch (topic.Kind)
            {
                case SyncTopicKind.DatasetManifest:
                    HandleManifest(topic.Name, message);
                    break;
                case SyncTopicKind.DatasetChunks:
                case SyncTopicKind.DeviceChunks when topic.Name == DeviceId:
                    HandleChunk(message);
                    break;
                case SyncTopicKind.BudgetDesired when topic.Name == DeviceId:
                    await HandleBudgetDesiredAsync(message, cancellationToken).ConfigureAwait(false);
                    break;
                case SyncTopicKind.Unknown when _topicHandlers.TryGetValue(message.Topic, out var handler):
                    HandleForHost(handler, message);
                    break;
                default:
                    _logger.LogWarning("Ignored message on unexpected topic {Topic}", message.Topic);
                    break;
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Flash trouble must not end the loop: the message is dropped and the transfer resumes by pull.
            _logger.LogError(ex, "Flash error while handling {Topic}; the message was dropped", message.Topic);
            CloseAssemblies();
        }

        RefreshHeldBytes();
    }

    /// <summary>Publishes the held bytes to <see cref="HeldBytes"/>; called before anything that reports them leaves the loop.</summary>
    private long RefreshHeldBytes()
    {
        var held = _store.HeldBytes;
        Volatile.Write(ref _heldBytes, held);
        return held;
    }

    private void HandleForHost(IDeviceTopicHandler handler, MqttMessage message)
    {
        try
        {
            handler.Handle(message);
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "Topic handler {Handler} failed on {Topic}; the message was dropped", handler.GetType().Name, message.Topic);
        }
    }

    /// <summary>
    /// Writes holdings changed since the last write: at once with <paramref name="force"/>; otherwise once no shard is
    /// being received or committed, or the oldest change waited <see cref="MaxStateWriteDelay"/>, so that the shards of
    /// one transfer cost one write of the state file rather than one each. A failure is logged and retried at the
    /// next tick.
    /// </summary>
    private void SaveHoldings(bool force = false)
    {
        if (_store.UnsavedSince is not { } since
            || (!force && _assemblies.Count + _commits.Count > 0 && _time.GetUtcNow() - since < MaxStateWriteDelay))
        {
            return;
        }

        try
        {
            _store.SaveIfChanged();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(ex, "Flash error while saving the device state of {Device}; retrying at the next tick", DeviceId);
        }
    }

    private void OnConnectionStateChanged(object? sender, MqttConnectionStateChangedEventArgs e)
    {
        if (e.IsConnected)
        {
            _republish = true;
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        FinishCommits();
        if (_generatorRuleArrived)
        {
            _generatorRuleArrived = false;
            ApplyBudget("generator rule");
        }

        SaveHoldings();
        RefreshHeldBytes();
        if (_republish)
        {
            // After a reconnect the broker has published our will: say online again.
            _republish = false;
            _stateDirty = true;
        }

        if (_events.TakeStateReportRequest())
        {
            _stateDirty = true;
        }

        if (_stateReport is { IsCompleted: true } report)
        {
            // A report that did not reach the broker is sent again with the state as it is now.
            _stateReport = null;
            _stateDirty |= !await report.ConfigureAwait(false);
        }

        if ((_stateDirty || now >= _nextStateReport) && _stateReport is null)
        {
            // The loop does not wait for the broker's acknowledgement: chunks keep being stored meanwhile. One report
            // at a time, so they arrive in order; a change made while one is on its way is sent by the next tick.
            _stateReport = StartStateReport();
        }

        await SendDuePullsAsync(now, cancellationToken).ConfigureAwait(false);
    }
}
