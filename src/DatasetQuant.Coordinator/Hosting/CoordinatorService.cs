using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Security;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// <c>dq-coordinator serve</c>: connects, subscribes to device state, applied budgets, pulls and manifests of its
/// fleet, re-plans budgets from the store, and then handles messages until stopped. Every message is handled on its
/// own: one that is malformed or fails is logged and the loop goes on.
/// </summary>
public sealed class CoordinatorService(
    IMqttConnectionFactory connections,
    IFleetStore store,
    IOptions<CoordinatorOptions> options,
    TimeProvider time,
    CoordinatorCounters counters,
    ILoggerFactory loggerFactory) : BackgroundService
{
    private readonly ILogger _logger = loggerFactory.CreateLogger<CoordinatorService>();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _reconnected;
    private RepairWorker? _repairs;

    /// <summary>Completes once the subscriptions are in place and the first planning round is done.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Pulls waiting for an answer (0 before the service runs).</summary>
    public int RepairQueueLength => _repairs?.Queued ?? 0;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var o = options.Value;
        var topics = new SyncTopics(o.Fleet);
        var boards = new DeviceBoardMap();
        foreach (var rule in o.DeviceBoards)
        {
            boards.Add(rule);
        }

        ManifestSigner signer;
        IMqttConnection connection;
        try
        {
            signer = ManifestSigner.FromPemFile(o.SigningKeyPath);
        }
        catch (SigningKeyException ex)
        {
            _logger.LogCritical("Cannot load the signing key: {Error}", ex.Message);
            _ready.TrySetException(ex);
            throw;
        }

        using var __ = signer;
        try
        {
            connection = await connections.ConnectAsync(CoordinatorConnection.CreateOptions(o), stoppingToken);
        }
        catch (MqttException ex)
        {
            _logger.LogCritical("Cannot connect to the broker {Broker}: {Error}", o.BrokerUrl, ex.Message);
            _ready.TrySetException(ex);
            throw;
        }

        await using var _ = connection;
        connection.StateChanged += OnStateChanged;
        _logger.LogInformation("Connected to {Broker} as {ClientId}, fleet {Fleet}", o.BrokerUrl, connection.ClientId, o.Fleet);

        var catalog = new StoreDatasetCatalog(store, o.Fleet, signer.KeyId, loggerFactory.CreateLogger<StoreDatasetCatalog>());
        var manifests = new DatasetPublisher(connection, topics, signer, loggerFactory.CreateLogger<DatasetPublisher>());
        var outbox = new BudgetOutbox(
            store, new BudgetPublisher(connection, topics), o.Fleet, connection.ClientId, time, counters, loggerFactory.CreateLogger<BudgetOutbox>());
        var states = new FleetStateHandler(
            store, new BudgetPlanner(o.Policy), outbox, boards, o.Fleet, time, counters, loggerFactory.CreateLogger<FleetStateHandler>());
        var repairs = new RepairWorker(
            new RepairResponder(connection, topics, catalog, loggerFactory.CreateLogger<RepairResponder>()),
            catalog, store, o.Fleet, o.RepairQueueCapacity, time, counters, loggerFactory.CreateLogger<RepairWorker>());
        _repairs = repairs;

        var pullFilter = o.ShareGroup is null ? topics.AllPulls : $"$share/{o.ShareGroup}/{topics.AllPulls}";
        foreach (var filter in new[] { topics.AllDeviceStates, topics.AllBudgetsReported, pullFilter, topics.AllManifests })
        {
            await connection.SubscribeAsync(filter, MqttQos.AtLeastOnce, stoppingToken);
        }

        await catalog.RefreshAsync(stoppingToken);
        await states.PlanAllAsync(stoppingToken);
        await outbox.FlushAsync(stoppingToken);
        _ready.TrySetResult();

        using var loops = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var repairLoop = repairs.RunAsync(loops.Token);
        var housekeeping = HousekeepingAsync(catalog, outbox, manifests, o.HousekeepingInterval, loops.Token);
        try
        {
            await foreach (var message in connection.Messages.ReadAllAsync(stoppingToken))
            {
                // Pulls go to the repair worker, which then owns (and disposes) them; everything else is done here.
                if (!await DispatchAsync(message, topics, states, catalog, repairs, stoppingToken))
                {
                    message.Dispose();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            connection.StateChanged -= OnStateChanged;
            await loops.CancelAsync();
            await Task.WhenAll(repairLoop, housekeeping).ContinueWith(_ => { }, TaskScheduler.Default);
            _logger.LogInformation("Stopped; answered {Pulls} pulls", repairs.PullsAnswered);
        }
    }

    /// <returns>True when the message was handed to another owner (a pull queued for the repair worker).</returns>
    private async Task<bool> DispatchAsync(
        MqttMessage message, SyncTopics topics, FleetStateHandler states, StoreDatasetCatalog catalog, RepairWorker repairs, CancellationToken cancellationToken)
    {
        var topic = topics.Parse(message.Topic);
        try
        {
            switch (topic.Kind)
            {
                case SyncTopicKind.DeviceState:
                    counters.StateReport();
                    await states.HandleStateAsync(topic.Name, message, cancellationToken);
                    break;
                case SyncTopicKind.BudgetReported:
                    counters.BudgetReport();
                    await states.HandleBudgetReportedAsync(topic.Name, message, cancellationToken);
                    break;
                case SyncTopicKind.DevicePull:
                    counters.PullReceived();
                    return repairs.TryEnqueue(message);
                case SyncTopicKind.DatasetManifest:
                    counters.ManifestAnnounced();
                    await catalog.RefreshAsync(cancellationToken);
                    break;
                default:
                    _logger.LogWarning("Ignored a message on {Topic}: not a topic the coordinator handles", message.Topic);
                    break;
            }
        }
        catch (Exception ex) when (ex is FleetStoreException or MqttException or ArgumentException)
        {
            counters.MessageFailed();
            _logger.LogError("Message on {Topic} not handled: {Error}", message.Topic, ex.Message);
        }

        return false;
    }

    private void OnStateChanged(object? sender, MqttConnectionStateChangedEventArgs e)
    {
        // Before Ready the start-up round publishes everything anyway.
        if (e.IsConnected && _ready.Task.IsCompleted)
        {
            Interlocked.Exchange(ref _reconnected, 1);
        }
        else if (!e.IsConnected)
        {
            _logger.LogWarning("Lost the broker: {Reason}", e.Reason);
        }
    }

    /// <summary>
    /// Every tick: re-read the catalog, retry pending budgets, and after a reconnect publish the retained manifests
    /// and budgets again — a broker without persistence comes back empty, and devices that connect then need them.
    /// </summary>
    private async Task HousekeepingAsync(
        StoreDatasetCatalog catalog, BudgetOutbox outbox, DatasetPublisher manifests, TimeSpan interval, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(interval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var republish = Interlocked.Exchange(ref _reconnected, 0) == 1;
                try
                {
                    await catalog.RefreshAsync(cancellationToken);
                    if (republish)
                    {
                        _logger.LogInformation("Reconnected: publishing retained manifests and budgets again");
                        foreach (var dataset in catalog.All)
                        {
                            await manifests.PublishManifestAsync(dataset.Signed, cancellationToken);
                        }

                        await outbox.RepublishAllAsync(cancellationToken);
                    }
                    else
                    {
                        await outbox.FlushAsync(cancellationToken);
                    }
                }
                catch (Exception ex) when (ex is FleetStoreException or MqttException)
                {
                    // Only an unfinished republish is redone in full. A failed ordinary tick leaves pending budgets pending
                    // for the next one; publishing every budget again for it would send versions already out once more
                    // (and a lost broker announces itself through OnStateChanged).
                    if (republish)
                    {
                        Interlocked.Exchange(ref _reconnected, 1);
                    }

                    _logger.LogError("Housekeeping failed, retrying next tick: {Error}", ex.Message);
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
