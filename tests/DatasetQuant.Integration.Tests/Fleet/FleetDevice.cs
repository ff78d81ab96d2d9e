using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>One device in the test process: the real sync service (engine, reconnect with backoff) over MQTTnet.</summary>
public sealed class FleetDevice : IAsyncDisposable
{
    private readonly ILoggerFactory _loggerFactory;
    private DeviceSyncService? _service;

    public FleetDevice(DeviceSyncOptions options, ILoggerFactory loggerFactory)
    {
        Options = options;
        _loggerFactory = loggerFactory;
        Events.DatasetStored += (_, e) =>
        {
            var at = System.Diagnostics.Stopwatch.GetTimestamp();
            lock (Stored)
            {
                Stored[e.Dataset] = e.ManifestVersion;
                StoredAt[(e.Dataset, e.ManifestVersion)] = at;
            }
        };
    }

    public DeviceSyncOptions Options { get; }

    public string Id => Options.DeviceId;

    public DeviceSyncEvents Events { get; } = new();

    /// <summary>Dataset → the manifest version the device announced as stored.</summary>
    public Dictionary<string, long> Stored { get; } = new(StringComparer.Ordinal);

    /// <summary>(dataset, version) → Stopwatch timestamp of the DatasetStored event, for measurements.</summary>
    public Dictionary<(string, long), long> StoredAt { get; } = [];

    public DateTimeOffset? StartedAt { get; private set; }

    public string ShardPath(string dataset, string shardFile) => Path.Combine(Options.DataDirectory, "datasets", dataset, Path.GetFileName(shardFile));

    public bool HasStored(string dataset, long version)
    {
        lock (Stored)
        {
            return Stored.TryGetValue(dataset, out var held) && held >= version;
        }
    }

    public async Task StartAsync()
    {
        var options = Microsoft.Extensions.Options.Options.Create(Options);
        var engines = new DeviceSyncEngineFactory(options, Events, [], _loggerFactory);
        _service = new DeviceSyncService(options, new MqttConnectionFactory(_loggerFactory), engines, _loggerFactory.CreateLogger<DeviceSyncService>());
        StartedAt = DateTimeOffset.UtcNow;
        await _service.StartAsync(CancellationToken.None);
    }

    public async Task StopAsync()
    {
        if (_service is { } service)
        {
            _service = null;
            await service.StopAsync(CancellationToken.None);
            service.Dispose();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());
}
