using System.Security.Cryptography;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// A fleet in one process: the in-memory broker, a coordinator (publisher + repair responder serving pulls) and any
/// number of devices, each a real <see cref="DeviceSyncEngine"/> on its own data directory.
/// </summary>
public sealed class SyncTestBed : IAsyncDisposable
{
    public const string Fleet = "lab";
    public const int ChunkSize = 16 * 1024;

    private readonly CancellationTokenSource _stop = new();
    private readonly Task _responderLoop;
    private readonly List<TestDevice> _devices = [];

    public SyncTestBed(IMqttConnection? coordinatorConnection = null, InMemoryMqttBroker? broker = null)
    {
        Broker = broker ?? new InMemoryMqttBroker();
        Root = new TempDirectory("sync");
        Topics = new SyncTopics(Fleet);
        using (var key = SigningKeyPem.Generate())
        {
            SigningKeyPem.Save(key, Root.File("coordinator.pem"), Root.File("coordinator.pub.pem"));
        }

        Signer = ManifestSigner.FromPemFile(Root.File("coordinator.pem"));
        Coordinator = coordinatorConnection ?? Broker.Connect("coordinator");
        Publisher = new DatasetPublisher(Coordinator, Topics, Signer, Log.For<DatasetPublisher>());
        Responder = new RepairResponder(Coordinator, Topics, Catalog, Log.For<RepairResponder>());
        Coordinator.SubscribeAsync(Topics.AllPulls, MqttQos.AtLeastOnce).AsTask().GetAwaiter().GetResult();
        _responderLoop = Task.Run(() => ServePullsAsync(_stop.Token));
    }

    public InMemoryMqttBroker Broker { get; }

    public TempDirectory Root { get; }

    public SyncTopics Topics { get; }

    public TestLog Log { get; } = new();

    public ManifestSigner Signer { get; }

    public IMqttConnection Coordinator { get; }

    public DatasetPublisher Publisher { get; }

    public RepairResponder Responder { get; }

    public InMemoryPublishedDatasetCatalog Catalog { get; } = new();

    public string PublicKeyPath => Root.File("coordinator.pub.pem");

    /// <summary>Writes <paramref name="sizes"/>.Length shards of random bytes into a new directory.</summary>
    public string CreateShards(string name, params int[] sizes)
    {
        var directory = Directory.CreateDirectory(Root.File(name)).FullName;
        for (var i = 0; i < sizes.Length; i++)
        {
            File.WriteAllBytes(Path.Combine(directory, $"part-{i:D3}.dqs"), RandomNumberGenerator.GetBytes(sizes[i]));
        }

        return directory;
    }

    public async Task<PublishedDataset> PublishAsync(
        string dataset, long version, string shardDirectory, IEnumerable<long>? cutAtHeldBytes = null, int? layersFormat = null)
    {
        var result = await Publisher.PublishAsync(dataset, version, shardDirectory, new OpaqueShardDescriber(), ChunkSize, cutAtHeldBytes: cutAtHeldBytes, layersFormat: layersFormat);
        Catalog.Add(result.Dataset);
        return result.Dataset;
    }

    public TestDevice AddDevice(string id, Action<DeviceSyncOptions>? configure = null, IShardRequantizer? requantizer = null)
    {
        var options = new DeviceSyncOptions
        {
            BrokerUrl = "mqtt://in-memory:1883",
            Fleet = Fleet,
            DeviceId = id,
            DataDirectory = Root.File("devices/" + id),
            CoordinatorKeyPath = PublicKeyPath,
            PullQuietPeriod = TimeSpan.FromMilliseconds(300),
            PullRetryInterval = TimeSpan.FromSeconds(3),
            // No coordinator plans budgets here: a test gives one before its device starts, or none. The wait for a
            // first budget has a test of its own.
            FirstBudgetWait = TimeSpan.Zero,
        };
        configure?.Invoke(options);
        var device = new TestDevice(this, options, requantizer);
        _devices.Add(device);
        return device;
    }

    public static async Task WaitUntilAsync(Func<bool> condition, string what, TestLog log, int timeoutMs = 20_000)
    {
        var deadline = DateTime.UtcNow.AddMilliseconds(timeoutMs);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"timed out waiting for {what}. Log:{Environment.NewLine}{log.Dump()}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var device in _devices)
        {
            await device.StopAsync();
        }

        _stop.Cancel();
        await Coordinator.DisposeAsync();
        try
        {
            await _responderLoop;
        }
        catch (OperationCanceledException)
        {
        }

        Signer.Dispose();
        Root.Dispose();
    }

    private async Task ServePullsAsync(CancellationToken cancellationToken)
    {
        await foreach (var message in Coordinator.Messages.ReadAllAsync(cancellationToken))
        {
            await Responder.HandleAsync(message, cancellationToken);
        }
    }
}
