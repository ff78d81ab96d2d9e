using System.Collections.Concurrent;
using System.Threading.Channels;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Integration.Tests.Scale;

/// <summary>
/// Hundreds of <see cref="SimulatedDevice"/>s over a few MQTT sessions ("lanes"), each lane subscribed to its own
/// devices' budget and repair topics and to every manifest and broadcast. A broadcast chunk reaches each device with
/// probability 1 − <c>broadcastLoss</c>, so devices miss chunks and pull them as real ones do; pulls go out every
/// <see cref="PullInterval"/> while a device lacks something, and again after <see cref="PullRetry"/> when the last
/// one was not answered (its coordinator may have died).
/// </summary>
public sealed class SimulatedFleet : IAsyncDisposable
{
    private readonly SyncTopics _topics;
    private readonly List<Lane> _lanes = [];
    private readonly ConcurrentDictionary<string, string> _shardFolders = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<(string, long, int), byte[]> _shardBytes = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _pulling;
    private long _pullsSent;

    private SimulatedFleet(SyncTopics topics, IReadOnlyList<SimulatedDevice> devices)
    {
        _topics = topics;
        Devices = devices;
    }

    public IReadOnlyList<SimulatedDevice> Devices { get; }

    public TimeSpan PullInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>As <c>DeviceSyncOptions.PullRetryInterval</c>'s default.</summary>
    public TimeSpan PullRetry { get; init; } = TimeSpan.FromSeconds(5);

    public long PullsSent => Interlocked.Read(ref _pullsSent);

    public static async Task<SimulatedFleet> StartAsync(
        string brokerUrl, SyncTopics topics, IReadOnlyList<SimulatedDevice> devices, int lanes, double broadcastLoss, int seed, CancellationToken cancellationToken = default)
    {
        var fleet = new SimulatedFleet(topics, devices);
        try
        {
            for (var i = 0; i < lanes; i++)
            {
                var connection = await MqttConnection.ConnectAsync(
                    new MqttConnectionOptions { BrokerUri = brokerUrl, ClientId = $"simulated-lane-{i}", MaxInFlight = 64 }, cancellationToken: cancellationToken);
                var lane = new Lane(fleet, connection, devices.Where((_, n) => n % lanes == i).ToList(), broadcastLoss, new Random(seed + i));
                fleet._lanes.Add(lane);
                await lane.SubscribeAsync(cancellationToken);
            }
        }
        catch
        {
            await fleet.DisposeAsync();
            throw;
        }

        return fleet;
    }

    /// <summary>Where the shards of <paramref name="dataset"/> are, so devices can check every chunk's bytes against them.</summary>
    public void ExpectDataset(string dataset, string shardFolder) => _shardFolders[dataset] = shardFolder;

    /// <summary>Every device (or those given) publishes its retained state now.</summary>
    public Task ReportAsync(IEnumerable<SimulatedDevice>? devices = null)
    {
        var now = DateTimeOffset.UtcNow;
        foreach (var device in devices ?? Devices)
        {
            LaneOf(device).Send(new MqttMessage(_topics.DeviceState(device.Id), SyncMessageCodec.Serialize(device.State(now)), Retain: true));
        }

        return Task.WhenAll(_lanes.Select(l => l.DrainedAsync()));
    }

    /// <summary>From now on, devices pull what they lack.</summary>
    public void StartPulling() => _pulling ??= Task.Run(() => PullLoopAsync(_stop.Token));

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_pulling is not null)
        {
            await _pulling.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        foreach (var lane in _lanes)
        {
            await lane.DisposeAsync();
        }

        _stop.Dispose();
    }

    private Lane LaneOf(SimulatedDevice device) => _lanes.First(l => l.Owns(device.Id));

    private async Task PullLoopAsync(CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PullInterval);
        while (await timer.WaitForNextTickAsync(cancellationToken))
        {
            var now = DateTimeOffset.UtcNow;
            foreach (var device in Devices)
            {
                if (device.NextPull(now, PullRetry) is { } pull)
                {
                    Interlocked.Increment(ref _pullsSent);
                    LaneOf(device).Send(new MqttMessage(_topics.DevicePull(device.Id), pull.Payload));
                }
            }
        }
    }

    private byte[]? ShardBytes(DatasetManifest manifest, int shardId)
    {
        if (!_shardFolders.TryGetValue(manifest.Dataset, out var folder) || manifest.FindShard(shardId) is not { } shard)
        {
            return null;
        }

        return _shardBytes.GetOrAdd((manifest.Dataset, manifest.Version, shardId), _ => File.ReadAllBytes(Path.Combine(folder, shard.Name)));
    }

    /// <summary>One MQTT session and the devices it carries: a pump for what arrives, a sender for what goes out.</summary>
    private sealed class Lane : IAsyncDisposable
    {
        private readonly SimulatedFleet _fleet;
        private readonly MqttConnection _connection;
        private readonly Dictionary<string, SimulatedDevice> _devices;
        private readonly double _loss;
        private readonly Random _random;
        private readonly Channel<MqttMessage> _outbox = Channel.CreateUnbounded<MqttMessage>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Dictionary<string, DatasetManifest> _manifests = new(StringComparer.Ordinal);
        private readonly Task _pump;
        private readonly Task _sender;
        private long _queued;
        private long _sent;

        public Lane(SimulatedFleet fleet, MqttConnection connection, List<SimulatedDevice> devices, double loss, Random random)
        {
            _fleet = fleet;
            _connection = connection;
            _devices = devices.ToDictionary(d => d.Id, StringComparer.Ordinal);
            _loss = loss;
            _random = random;
            _pump = Task.Run(PumpAsync);
            _sender = Task.Run(SendAsync);
        }

        public bool Owns(string id) => _devices.ContainsKey(id);

        public async Task SubscribeAsync(CancellationToken cancellationToken)
        {
            var topics = _fleet._topics;
            await _connection.SubscribeAsync(topics.AllManifests, MqttQos.AtLeastOnce, cancellationToken);
            await _connection.SubscribeAsync(topics.AllDatasetChunks, MqttQos.AtLeastOnce, cancellationToken);
            foreach (var id in _devices.Keys)
            {
                await _connection.SubscribeAsync(topics.BudgetDesired(id), MqttQos.AtLeastOnce, cancellationToken);
                await _connection.SubscribeAsync(topics.DeviceChunks(id), MqttQos.AtLeastOnce, cancellationToken);
            }
        }

        public void Send(MqttMessage message)
        {
            Interlocked.Increment(ref _queued);
            _outbox.Writer.TryWrite(message);
        }

        /// <summary>Completes once everything queued so far has been acknowledged by the broker.</summary>
        public async Task DrainedAsync()
        {
            var target = Interlocked.Read(ref _queued);
            while (Interlocked.Read(ref _sent) < target)
            {
                await Task.Delay(10);
            }
        }

        public async ValueTask DisposeAsync()
        {
            _outbox.Writer.TryComplete();
            await _sender.ContinueWith(_ => { }, TaskScheduler.Default);
            await _connection.DisposeAsync();
            await _pump.ContinueWith(_ => { }, TaskScheduler.Default);
        }

        private async Task SendAsync()
        {
            await foreach (var message in _outbox.Reader.ReadAllAsync())
            {
                try
                {
                    await _connection.PublishAsync(message);
                }
                catch (MqttException)
                {
                    // The broker went away; the device's next report or pull says it again.
                }

                Interlocked.Increment(ref _sent);
            }
        }

        private async Task PumpAsync()
        {
            var topics = _fleet._topics;
            await foreach (var message in _connection.Messages.ReadAllAsync())
            {
                using (message)
                {
                    var topic = topics.Parse(message.Topic);
                    switch (topic.Kind)
                    {
                        case SyncTopicKind.DatasetManifest when SyncMessageCodec.TryReadManifest(message.Payload.Span, out var signed, out _):
                            _manifests[signed.Manifest.Dataset] = signed.Manifest;
                            foreach (var device in _devices.Values)
                            {
                                device.StartDataset(signed.Manifest);
                            }

                            break;
                        case SyncTopicKind.DatasetChunks:
                            OnChunk(message, device: null);
                            break;
                        case SyncTopicKind.DeviceChunks when _devices.TryGetValue(topic.Name, out var device):
                            OnChunk(message, device);
                            break;
                        case SyncTopicKind.BudgetDesired when _devices.TryGetValue(topic.Name, out var device)
                                                             && SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var desired, out _):
                            if (device.OnBudget(desired) is { } reported)
                            {
                                Send(new MqttMessage(topics.BudgetReported(device.Id), SyncMessageCodec.Serialize(reported), Retain: true));
                                Send(new MqttMessage(topics.DeviceState(device.Id), SyncMessageCodec.Serialize(device.State(DateTimeOffset.UtcNow)), Retain: true));
                            }

                            break;
                    }
                }
            }
        }

        /// <summary>A repair chunk goes to its device; a broadcast chunk to each device that does not lose it.</summary>
        private void OnChunk(MqttMessage message, SimulatedDevice? device)
        {
            if (!ChunkFrameReader.TryRead(message.Payload, out var header, out var payload, out _)
                || !_manifests.TryGetValue(header.Dataset, out var manifest) || manifest.Version != header.ManifestVersion
                || _fleet.ShardBytes(manifest, header.ShardId) is not { } shard)
            {
                return;
            }

            var source = shard.AsSpan((int)header.Offset, Math.Min(header.Length, shard.Length - (int)header.Offset));
            if (device is not null)
            {
                device.OnChunk(header, payload.Span, source);
                return;
            }

            foreach (var each in _devices.Values)
            {
                if (_random.NextDouble() >= _loss)
                {
                    each.OnChunk(header, payload.Span, source);
                }
            }
        }
    }
}
