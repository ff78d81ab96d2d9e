using DatasetQuant.Coordinator.Hosting;
using DatasetQuant.Coordinator.Planning;
using DatasetQuant.Coordinator.Publishing;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Security;
using DatasetQuant.Sync.Shards;
using DatasetQuant.Testing;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>
/// A fleet on loopback: Debian's mosquitto, a serving coordinator (real SQLite store, MQTTnet session) and
/// devices running the real sync service, each on its own data directory. Set DQ_TEST_LOG=1 to see every log line.
/// </summary>
public sealed class FleetBed : IAsyncDisposable
{
    public const string FleetName = "lab";
    private const long MiB = 1L << 20;

    private readonly List<FleetDevice> _devices = [];
    private CoordinatorService? _coordinator;

    private FleetBed(MosquittoBroker broker, TempDirectory dir, ILoggerFactory loggerFactory)
    {
        Broker = broker;
        Dir = dir;
        LoggerFactory = loggerFactory;
        KeyPath = dir.File("coordinator.pem");
        PublicKeyPath = dir.File("coordinator.pub.pem");
        using var key = SigningKeyPem.Generate();
        SigningKeyPem.Save(key, KeyPath, PublicKeyPath);
        Store = SqliteFleetStore.Open(dir.File("fleet.db"));
    }

    public MosquittoBroker Broker { get; }

    public TempDirectory Dir { get; }

    public ILoggerFactory LoggerFactory { get; }

    public string KeyPath { get; }

    public string PublicKeyPath { get; }

    public SqliteFleetStore Store { get; }

    public SyncTopics Topics { get; } = new(FleetName);

    public IReadOnlyList<FleetDevice> Devices => _devices;

    /// <summary>Budgets large enough for the test datasets: half of a 64 MiB quota each.</summary>
    public static BudgetPolicy Policy { get; } = new() { FractionOfAvailable = 0.5, MinBytes = MiB, MaxBytes = 1L << 30 };

    public static async Task<FleetBed> StartAsync()
    {
        var loggerFactory = Environment.GetEnvironmentVariable("DQ_TEST_LOG") == "1"
            ? Microsoft.Extensions.Logging.LoggerFactory.Create(b => b.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss.fff "; }).SetMinimumLevel(LogLevel.Debug))
            : NullLoggerFactory.Instance;
        return new FleetBed(await MosquittoBroker.StartAsync(), new TempDirectory("fleet"), loggerFactory);
    }

    public async Task StartCoordinatorAsync()
    {
        var options = Options.Create(new CoordinatorOptions
        {
            BrokerUrl = Broker.Url,
            Fleet = FleetName,
            Database = Store.Path,
            SigningKeyPath = KeyPath,
            ClientId = "coordinator",
            Policy = Policy,
            HousekeepingInterval = TimeSpan.FromMilliseconds(500),
        });
        _coordinator = new CoordinatorService(new MqttConnectionFactory(LoggerFactory), Store, options, TimeProvider.System, new CoordinatorCounters(), LoggerFactory);
        await _coordinator.StartAsync(CancellationToken.None);
        await _coordinator.Ready.WaitAsync(TimeSpan.FromSeconds(20));
    }

    /// <summary>How long the bed's devices wait without a chunk before they pull (short, so tests repair quickly).</summary>
    public TimeSpan PullQuietPeriod { get; set; } = TimeSpan.FromMilliseconds(500);

    public DeviceSyncOptions DeviceOptions(string id) => new()
    {
        BrokerUrl = Broker.Url,
        Fleet = FleetName,
        DeviceId = id,
        DataDirectory = Directory.CreateDirectory(Dir.File($"device-{id}")).FullName,
        CoordinatorKeyPath = PublicKeyPath,
        FlashQuotaBytes = 64 * MiB,
        PullQuietPeriod = PullQuietPeriod,
        PullRetryInterval = TimeSpan.FromSeconds(1),
        StateReportInterval = TimeSpan.FromSeconds(2),
    };

    public async Task<FleetDevice> StartDeviceAsync(string id)
    {
        var device = new FleetDevice(DeviceOptions(id), LoggerFactory);
        _devices.Add(device);
        await device.StartAsync();
        return device;
    }

    /// <summary>Pushes a shard folder as the next version of <paramref name="dataset"/>, recorded in the store (like publish --db).</summary>
    public Task<DatasetPushResult> PublishAsync(string dataset, string shardDirectory, CancellationToken cancellationToken = default) =>
        PushAsync(Broker.Url, Topics, KeyPath, Store, dataset, shardDirectory, LoggerFactory, cancellationToken);

    /// <summary>What <c>publish --db</c> does, in the test process: the next version of a dataset, recorded in <paramref name="store"/> and broadcast.</summary>
    public static async Task<DatasetPushResult> PushAsync(
        string brokerUrl, SyncTopics topics, string keyPath, IFleetStore store, string dataset, string shardDirectory, ILoggerFactory loggerFactory,
        CancellationToken cancellationToken = default)
    {
        var options = CoordinatorConnection.CreateOptions(brokerUrl, $"publisher-{Guid.NewGuid():N}", null, null, null);
        await using var connection = await MqttConnection.ConnectAsync(options, loggerFactory.CreateLogger<MqttConnection>(), cancellationToken);
        using var signer = ManifestSigner.FromPemFile(keyPath);
        var push = new DatasetPush(connection, topics, signer, store, new DqsShardDescriber(), TimeProvider.System, loggerFactory)
        {
            RetainedManifestWait = TimeSpan.FromMilliseconds(300),
        };
        return await push.RunAsync(dataset, shardDirectory, requestedVersion: null, cancellationToken);
    }

    /// <summary>Waits until <paramref name="condition"/> holds; fails with <paramref name="describe"/> after <paramref name="timeout"/>.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out after {timeout.TotalSeconds:F0} s: {describe()}");
            }

            await Task.Delay(50);
        }
    }

    /// <summary>The shard files a device holds for <paramref name="dataset"/> differ from the source in these names (empty: byte-exact).</summary>
    public static IReadOnlyList<string> Differences(FleetDevice device, string dataset, IReadOnlyList<string> sourceFiles)
    {
        var different = new List<string>();
        foreach (var source in sourceFiles)
        {
            var held = device.ShardPath(dataset, source);
            if (!File.Exists(held) || !File.ReadAllBytes(held).AsSpan().SequenceEqual(File.ReadAllBytes(source)))
            {
                different.Add(Path.GetFileName(source));
            }
        }

        return different;
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_devices.Select(d => d.StopAsync()));
        if (_coordinator is not null)
        {
            await _coordinator.StopAsync(CancellationToken.None);
            _coordinator.Dispose();
        }

        await Store.DisposeAsync();
        await Broker.DisposeAsync();
        Dir.Dispose();
    }
}
