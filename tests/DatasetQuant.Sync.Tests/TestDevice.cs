using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Sync.Tests;

/// <summary>One device of a <see cref="SyncTestBed"/>: an engine over its data directory, started and stopped at will.</summary>
public sealed class TestDevice
{
    private readonly SyncTestBed _bed;
    private readonly IShardRequantizer? _requantizer;
    private CancellationTokenSource? _stop;
    private Task? _run;

    internal TestDevice(SyncTestBed bed, DeviceSyncOptions options, IShardRequantizer? requantizer)
    {
        _bed = bed;
        Options = options;
        _requantizer = requantizer;
        Events.DatasetStored += (_, e) => _stored[e.Dataset] = e.ManifestVersion;
    }

    public DeviceSyncOptions Options { get; }

    public string Id => Options.DeviceId;

    public DeviceSyncEvents Events { get; } = new();

    public DeviceSyncEngine? Engine { get; private set; }

    public IMqttConnection? Connection { get; private set; }

    public Task? Run => _run;

    public string DatasetDirectory(string dataset) => Path.Combine(Options.DataDirectory, "datasets", dataset);

    /// <summary>Creates the engine on the data directory (as a process start would) and runs it on a new session.</summary>
    public TestDevice Start(IMqttConnection? connection = null)
    {
        Engine = new DeviceSyncEngine(
            Options, ManifestVerifier.FromPemFile(Options.CoordinatorKeyPath), _requantizer, Events, [], _bed.Log.For<DeviceSyncEngine>());
        Connection = connection ?? _bed.Broker.Connect(Id, DeviceSyncEngine.CreateWill(Options));
        _stop = new CancellationTokenSource();
        var engine = Engine;
        var session = Connection;
        var token = _stop.Token;
        _run = Task.Run(() => engine.RunAsync(session, token));
        return this;
    }

    /// <summary>Stops the engine mid-whatever and drops the session (its will goes out), like a killed process.</summary>
    public async Task StopAsync()
    {
        if (_stop is null)
        {
            return;
        }

        _stop.Cancel();
        try
        {
            await _run!;
        }
        catch (OperationCanceledException)
        {
        }

        if (Connection is InMemoryMqttConnection memory)
        {
            memory.Abort();
        }
        else
        {
            await Connection!.DisposeAsync();
        }

        Engine!.Dispose();
        _stop.Dispose();
        _stop = null;
    }

    /// <summary>
    /// Waits until the device's session receives <paramref name="dataset"/>'s broadcast chunks: a push sent before
    /// that reaches it only by repair, which a test counting rejections or repairs must not race.
    /// </summary>
    public Task SubscribedAsync(string dataset) =>
        SyncTestBed.WaitUntilAsync(
            () => Connection is InMemoryMqttConnection session && session.IsSubscribedTo(_bed.Topics.DatasetChunks(dataset)),
            $"device {Id} to subscribe to {dataset}'s chunks",
            _bed.Log);

    /// <summary>True once the engine raised DatasetStored for this dataset version.</summary>
    public bool Holds(string dataset, long version) => _stored.TryGetValue(dataset, out var v) && v >= version;

    /// <summary>Asserts that the device holds exactly the shard files of <paramref name="sourceDirectory"/>, byte for byte.</summary>
    public void AssertHoldsExactly(string dataset, string sourceDirectory)
    {
        var held = Directory.GetFiles(DatasetDirectory(dataset)).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var source = Directory.GetFiles(sourceDirectory, "*.dqs").Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(source, held);
        foreach (var name in source)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(sourceDirectory, name!)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(DatasetDirectory(dataset), name!))),
                $"device {Id}: {name} differs from the published shard");
        }
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _stored = new();
}
