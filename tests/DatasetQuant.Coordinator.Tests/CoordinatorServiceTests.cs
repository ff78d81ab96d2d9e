using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Publishing;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;
using DatasetQuant.Testing.InMemoryMqtt;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>The serving coordinator over the in-memory broker and a real SQLite file.</summary>
public sealed class CoordinatorServiceTests : IAsyncLifetime
{
    private const long MiB = 1L << 20;
    private readonly TempDirectory _dir = new("coord-svc");
    private readonly InMemoryMqttBroker _broker = new();
    private readonly SyncTopics _topics = new("lab");
    private SqliteFleetStore _store = null!;
    private CoordinatorService _service = null!;
    private InMemoryMqttConnection _device = null!;
    private string _keyPath = null!;

    private static readonly BudgetPolicy Policy = new() { FractionOfAvailable = 0.5, MinBytes = 1 * MiB, MaxBytes = 1024 * MiB, GranularityBytes = MiB };

    public async Task InitializeAsync()
    {
        _keyPath = _dir.File("coordinator.pem");
        using (var key = SigningKeyPem.Generate())
        {
            SigningKeyPem.Save(key, _keyPath, _dir.File("coordinator.pub.pem"));
        }

        _store = SqliteFleetStore.Open(_dir.File("fleet.db"));
        _device = _broker.Connect("device-pi-1");
        await _device.SubscribeAsync(_topics.DeviceChunks("pi-1"), MqttQos.AtLeastOnce);
        await StartServiceAsync();
    }

    public async Task DisposeAsync()
    {
        await _service.StopAsync(CancellationToken.None);
        _service.Dispose();
        await _store.DisposeAsync();
        _dir.Dispose();
    }

    private async Task StartServiceAsync()
    {
        var options = Options.Create(new CoordinatorOptions
        {
            BrokerUrl = "mqtt://127.0.0.1:1883",
            Fleet = "lab",
            Database = _store.Path,
            SigningKeyPath = _keyPath,
            Policy = Policy,
            HousekeepingInterval = TimeSpan.FromMilliseconds(200),
        });
        _service = new CoordinatorService(new InMemoryFactory(_broker), _store, options, TimeProvider.System, new CoordinatorCounters(), NullLoggerFactory.Instance);
        await _service.StartAsync(CancellationToken.None);
        await _service.Ready.WaitAsync(TimeSpan.FromSeconds(10));
    }

    private async Task PublishStateAsync(long? freeFlash, long held, DateTimeOffset at, string device = "pi-1")
    {
        var state = new DeviceStateMessage { Device = device, FreeFlashBytes = freeFlash, HeldBytes = held, UpdatedUtc = at };
        await _device.PublishAsync(new MqttMessage(_topics.DeviceState(device), SyncMessageCodec.Serialize(state), Retain: true));
    }

    private BudgetDesiredMessage? RetainedBudget(string device = "pi-1") =>
        _broker.Retained.TryGetValue(_topics.BudgetDesired(device), out var message)
        && SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var budget, out _) ? budget : null;

    private static async Task Eventually(Func<Task<bool>> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting for: {what}");
            await Task.Delay(20);
        }
    }

    [Fact]
    public async Task A_state_report_is_recorded_and_gets_a_retained_budget_that_changes_only_when_the_plan_does()
    {
        var t0 = DateTimeOffset.UtcNow;
        await PublishStateAsync(freeFlash: 100 * MiB, held: 0, t0);
        await Eventually(() => Task.FromResult(RetainedBudget() is { Version: 1 }), "budget v1");
        Assert.Equal(50 * MiB, RetainedBudget()!.Bytes);
        var device = await _store.GetDeviceAsync("lab", "pi-1");
        Assert.Equal(100 * MiB, device!.FreeFlashBytes);

        // The retained message is out before the store records it published (a crash in between publishes it again).
        await Eventually(async () => (await _store.GetDesiredBudgetAsync("lab", "pi-1"))!.IsPublished, "budget v1 marked published");

        // The device fills 40 MiB of its budget: free + held is the same, so the budget stays v1.
        var published = _broker.PublishedMessages;
        await PublishStateAsync(freeFlash: 60 * MiB, held: 40 * MiB, t0.AddSeconds(1));
        await Eventually(async () => (await _store.GetDeviceAsync("lab", "pi-1"))!.BytesHeld == 40 * MiB, "second report");
        await Task.Delay(300);
        Assert.Equal(1, RetainedBudget()!.Version);

        // Another 100 MiB of flash frees up: the budget rises under a new version.
        await PublishStateAsync(freeFlash: 160 * MiB, held: 40 * MiB, t0.AddSeconds(2));
        await Eventually(() => Task.FromResult(RetainedBudget() is { Version: 2 }), "budget v2");
        Assert.Equal(100 * MiB, RetainedBudget()!.Bytes);
        Assert.True(_broker.PublishedMessages > published);
    }

    [Fact]
    public async Task Malformed_messages_on_every_coordinator_topic_change_nothing_and_the_loop_goes_on()
    {
        byte[][] payloads = [[], "not json"u8.ToArray(), "{\"schema\":999}"u8.ToArray(), [0xFF, 0x00, 0x13, 0x37], "{\"device\":\"other\",\"schema\":1}"u8.ToArray(), "null"u8.ToArray()];
        foreach (var topic in new[] { _topics.DeviceState("pi-1"), _topics.BudgetReported("pi-1"), _topics.DevicePull("pi-1"), _topics.DatasetManifest("d"), "dq/v1/lab/devices/pi-1/unknown" })
        {
            foreach (var payload in payloads)
            {
                await _device.PublishAsync(new MqttMessage(topic, payload));
            }
        }

        // A valid report after all that is still handled.
        await PublishStateAsync(freeFlash: 10 * MiB, held: 0, DateTimeOffset.UtcNow);
        await Eventually(() => Task.FromResult(RetainedBudget() is not null), "budget after the garbage");
        Assert.Single(await _store.ListDevicesAsync("lab"));
        Assert.Empty(await _store.ListDatasetsAsync("lab"));
        Assert.Empty(await _store.ListRepairTotalsAsync("lab"));
        Assert.Null((await _store.GetDeviceAsync("lab", "pi-1"))!.ReportedBudgetVersion);
    }

    [Fact]
    public async Task Budget_reports_and_the_last_will_are_recorded()
    {
        await PublishStateAsync(freeFlash: 10 * MiB, held: 0, DateTimeOffset.UtcNow.AddSeconds(-5));
        var reported = new BudgetReportedMessage { Device = "pi-1", Version = 1, BudgetBytes = 5 * MiB, HeldBytes = 0 };
        await _device.PublishAsync(new MqttMessage(_topics.BudgetReported("pi-1"), SyncMessageCodec.Serialize(reported), Retain: true));
        await Eventually(async () => (await _store.GetDeviceAsync("lab", "pi-1"))?.ReportedBudgetVersion == 1, "reported budget");

        var offline = new DeviceStateMessage { Device = "pi-1", Status = DeviceStateMessage.Offline };
        await _device.PublishAsync(new MqttMessage(_topics.DeviceState("pi-1"), SyncMessageCodec.Serialize(offline), Retain: true));
        await Eventually(async () => (await _store.GetDeviceAsync("lab", "pi-1"))!.Online == false, "offline");
    }

    [Fact]
    public async Task A_state_naming_another_device_is_ignored()
    {
        var state = new DeviceStateMessage { Device = "pi-2", FreeFlashBytes = MiB, UpdatedUtc = DateTimeOffset.UtcNow };
        await _device.PublishAsync(new MqttMessage(_topics.DeviceState("pi-1"), SyncMessageCodec.Serialize(state)));
        await PublishStateAsync(freeFlash: 10 * MiB, held: 0, DateTimeOffset.UtcNow, device: "pi-3");
        await Eventually(async () => (await _store.ListDevicesAsync("lab")).Count == 1, "pi-3 recorded");
        Assert.Equal("pi-3", Assert.Single(await _store.ListDevicesAsync("lab")).DeviceId);
    }

    [Fact]
    public async Task Pulls_are_answered_from_the_store_and_a_redelivered_pull_is_counted_once()
    {
        var shards = Directory.CreateDirectory(_dir.File("shards")).FullName;
        var bytes = new byte[300_000];
        new Random(7).NextBytes(bytes);
        await File.WriteAllBytesAsync(Path.Combine(shards, "a.dqs"), bytes);

        await using (var publisherConnection = _broker.Connect("publisher"))
        {
            using var signer = ManifestSigner.FromPemFile(_keyPath);
            var push = new DatasetPush(publisherConnection, _topics, signer, _store, new FixedDescriber(), TimeProvider.System, NullLoggerFactory.Instance)
            {
                RetainedManifestWait = TimeSpan.FromMilliseconds(100),
            };
            var result = await push.RunAsync("fmnist", shards, requestedVersion: null, CancellationToken.None);
            Assert.Equal(1, result.Version);
            Assert.Equal(3, result.Chunks);
        }

        // Chunk 0 and 2 of shard 0 missing: bits 0b101.
        // The pull, and once it is answered the same pull again (a redelivery, or the device asking once more).
        var pull = new PullRequestMessage { Device = "pi-1", Dataset = "fmnist", ManifestVersion = 1, Shards = [new PullShard { Id = 0, Missing = Convert.ToBase64String([0b101]) }] };
        var payload = SyncMessageCodec.Serialize(pull);
        var offsets = new List<long>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _device.PublishAsync(new MqttMessage(_topics.DevicePull("pi-1"), payload));
        while (offsets.Count < 4)
        {
            if (offsets.Count == 2)
            {
                await _device.PublishAsync(new MqttMessage(_topics.DevicePull("pi-1"), payload));
            }

            var message = await _device.Messages.ReadAsync(timeout.Token);
            Assert.True(ChunkFrameReader.TryRead(message.Payload, out var header, out var chunk, out var error), error);
            Assert.True(header.IsRepair);
            offsets.Add(header.Offset);
            Assert.True(bytes.AsSpan((int)header.Offset, chunk.Length).SequenceEqual(chunk.Span));
        }

        Assert.Equal([0L, 262_144L, 0L, 262_144L], offsets);
        await Eventually(async () => (await _store.ListRepairTotalsAsync("lab")).Count == 1, "repair recorded");
        var totals = Assert.Single(await _store.ListRepairTotalsAsync("lab"));
        Assert.Equal(1, totals.Repairs);
        Assert.Equal(2, totals.Chunks);
        Assert.Equal(131_072 + (300_000 - 262_144), totals.Bytes); // the shard bytes the two chunks carry
    }

    [Fact]
    public async Task A_pull_that_waits_in_the_queue_already_is_not_queued_again()
    {
        var counters = new CoordinatorCounters();
        var catalog = new StoreDatasetCatalog(_store, "lab", null, NullLogger<StoreDatasetCatalog>.Instance);
        await using var connection = _broker.Connect("worker-under-test");
        var worker = new RepairWorker(new RepairResponder(connection, _topics, catalog, NullLogger<RepairResponder>.Instance), catalog, _store, "lab",
            capacity: 8, TimeProvider.System, counters, NullLogger<RepairWorker>.Instance);
        var pull = SyncMessageCodec.Serialize(new PullRequestMessage { Device = "pi-1", Dataset = "d", ManifestVersion = 1, Shards = [new PullShard { Id = 0, Missing = "AQ==" }] });
        var other = SyncMessageCodec.Serialize(new PullRequestMessage { Device = "pi-1", Dataset = "d", ManifestVersion = 1, Shards = [new PullShard { Id = 0, Missing = "Aw==" }] });

        Assert.True(worker.TryEnqueue(new MqttMessage(_topics.DevicePull("pi-1"), pull)));
        Assert.False(worker.TryEnqueue(new MqttMessage(_topics.DevicePull("pi-1"), pull)));
        Assert.True(worker.TryEnqueue(new MqttMessage(_topics.DevicePull("pi-1"), other)));
        Assert.Equal((2, 1L), (worker.Queued, counters.PullsDuplicate));

        // Once the worker has taken it, the same pull may be queued again (it can come after the answer went out).
        using var run = new CancellationTokenSource();
        var running = worker.RunAsync(run.Token);
        await Eventually(() => Task.FromResult(worker.Queued == 0), "queue drained");
        Assert.True(worker.TryEnqueue(new MqttMessage(_topics.DevicePull("pi-1"), pull)));
        await run.CancelAsync();
        await running.ContinueWith(_ => { }, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_budget_left_unpublished_by_a_crash_goes_out_at_the_next_start()
    {
        await _service.StopAsync(CancellationToken.None);
        _service.Dispose();
        await _store.RecordDeviceReportAsync(new DeviceReport("lab", "pi-9", DateTimeOffset.UtcNow, null, 4 * MiB, 0, []));
        await _store.SetDesiredBudgetAsync("lab", "pi-9", 2 * MiB, DateTimeOffset.UtcNow);

        await StartServiceAsync();
        Assert.Equal(2 * MiB, RetainedBudget("pi-9")!.Bytes);
        Assert.True((await _store.GetDesiredBudgetAsync("lab", "pi-9"))!.IsPublished);
    }

    [Fact]
    public async Task Two_coordinators_on_one_store_give_each_budget_one_version_and_publish_it_once()
    {
        var options = Options.Create(new CoordinatorOptions
        {
            BrokerUrl = "mqtt://127.0.0.1:1883",
            Fleet = "lab",
            Database = _store.Path,
            SigningKeyPath = _keyPath,
            ClientId = "coordinator-2",
            Policy = Policy,
            HousekeepingInterval = TimeSpan.FromMilliseconds(200),
        });
        using var second = new CoordinatorService(new InMemoryFactory(_broker), _store, options, TimeProvider.System, new CoordinatorCounters(), NullLoggerFactory.Instance);
        await second.StartAsync(CancellationToken.None);
        await second.Ready.WaitAsync(TimeSpan.FromSeconds(10));
        await using var observer = _broker.Connect("observer");
        await observer.SubscribeAsync(_topics.BudgetDesired("pi-1"), MqttQos.AtLeastOnce);

        // Both coordinators handle each report; the budget moves three times.
        var t0 = DateTimeOffset.UtcNow;
        long[] available = [100 * MiB, 300 * MiB, 40 * MiB];
        for (var i = 0; i < available.Length; i++)
        {
            await PublishStateAsync(freeFlash: available[i], held: 0, t0.AddSeconds(i));
            var expected = i + 1;
            await Eventually(() => Task.FromResult(RetainedBudget() is { } b && b.Version == expected), $"budget v{expected}");
        }

        await Task.Delay(600); // a housekeeping tick or two of each
        await second.StopAsync(CancellationToken.None);
        var seen = new List<(long, long)>();
        while (observer.Messages.TryRead(out var message))
        {
            using (message)
            {
                Assert.True(SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var budget, out _));
                seen.Add((budget.Version, budget.Bytes));
            }
        }

        Assert.Equal([(1L, 50 * MiB), (2L, 150 * MiB), (3L, 20 * MiB)], seen);
    }

    private sealed class InMemoryFactory(InMemoryMqttBroker broker) : IMqttConnectionFactory
    {
        public Task<IMqttConnection> ConnectAsync(MqttConnectionOptions options, CancellationToken cancellationToken) =>
            Task.FromResult<IMqttConnection>(broker.Connect(options.ClientId ?? "coordinator"));
    }

    private sealed class FixedDescriber : IShardDescriber
    {
        public ShardDescription Describe(string path) => new(SampleCount: 1, BitBudget: new FileInfo(path).Length * 8, BitsPerPixel: 8);
    }
}
