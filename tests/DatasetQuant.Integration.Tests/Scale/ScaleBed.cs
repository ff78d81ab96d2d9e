using System.Globalization;
using DatasetQuant.Coordinator.Publishing;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Sync;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Integration.Tests.Scale;

/// <summary>
/// Several <c>dq-coordinator serve</c> processes in one share group, on one mosquitto and one PostgreSQL database,
/// each with its fleet page on a loopback port (the test reads their <c>/metrics</c>). The test process keeps a store
/// of its own on the same database, as an operator's <c>publish --db</c> would.
/// </summary>
public sealed class ScaleBed : IAsyncDisposable
{
    public const string FleetName = "lab";
    public const string ShareGroup = "coordinators";

    private readonly List<ServeProcess> _coordinators = [];
    private readonly Dictionary<string, int> _httpPorts = new(StringComparer.Ordinal);

    private ScaleBed(MosquittoBroker broker, string database, PostgresFleetStore store, TempDirectory dir)
    {
        Broker = broker;
        Database = database;
        Store = store;
        Dir = dir;
        KeyPath = dir.File("coordinator.pem");
        using var key = SigningKeyPem.Generate();
        SigningKeyPem.Save(key, KeyPath, dir.File("coordinator.pub.pem"));
    }

    public MosquittoBroker Broker { get; }

    /// <summary>The PostgreSQL URL every coordinator is given.</summary>
    public string Database { get; }

    public PostgresFleetStore Store { get; }

    public TempDirectory Dir { get; }

    public string KeyPath { get; }

    public SyncTopics Topics { get; } = new(FleetName);

    public IReadOnlyList<ServeProcess> Coordinators => _coordinators;

    /// <summary>
    /// A bed on a new database of <paramref name="postgres"/>. The broker is set up as deploy/mosquitto/dq-broker.conf
    /// sets it up, acknowledgements not held back by Nagle, unless <paramref name="tcpNoDelay"/> is false.
    /// </summary>
    public static async Task<ScaleBed> StartAsync(PostgresServer postgres, bool tcpNoDelay = true)
    {
        var database = await postgres.CreateDatabaseAsync();
        var broker = await MosquittoBroker.StartAsync(tcpNoDelay ? "set_tcp_nodelay true" : null);
        return new ScaleBed(broker, database, await PostgresFleetStore.OpenAsync(database), new TempDirectory("scale"));
    }

    /// <summary>Starts coordinators <c>coordinator-a</c>, <c>-b</c>, … and waits until each serves its page (it is running then).</summary>
    public async Task StartCoordinatorsAsync(int count, params string[] extraArgs)
    {
        var started = new List<ServeProcess>();
        for (var i = 0; i < count; i++)
        {
            var name = $"coordinator-{(char)('a' + _coordinators.Count)}";
            var port = MosquittoBroker.FreeLoopbackPort();
            _httpPorts[name] = port;
            var coordinator = ServeProcess.Start(name,
            [
                "--broker", Broker.Url, "--fleet", FleetName, "--db", Database, "--key", KeyPath, "--client-id", name, "--share-group", ShareGroup,
                "--http", $"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}", .. extraArgs,
            ]);
            _coordinators.Add(coordinator);
            started.Add(coordinator);
        }

        await Task.WhenAll(started.Select(c => c.WaitForOutputAsync("Fleet page at", TimeSpan.FromSeconds(120))));
    }

    /// <summary>A coordinator's <c>/metrics</c> as name{labels} → value.</summary>
    public async Task<IReadOnlyDictionary<string, double>> MetricsAsync(ServeProcess coordinator)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(30) };
        var text = await http.GetStringAsync($"http://127.0.0.1:{_httpPorts[coordinator.Name].ToString(CultureInfo.InvariantCulture)}/metrics");
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var space = line.LastIndexOf(' ');
            if (line.Length > 0 && line[0] != '#' && space > 0)
            {
                metrics[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return metrics;
    }

    /// <summary>A counter of <c>dq_coordinator_…</c> for one coordinator (0 when absent).</summary>
    public async Task<double> CounterAsync(ServeProcess coordinator, string name) =>
        (await MetricsAsync(coordinator)).GetValueOrDefault($"{name}{{fleet=\"{FleetName}\",coordinator=\"{coordinator.Name}\"}}");

    public Task<DatasetPushResult> PublishAsync(string dataset, string shardDirectory) =>
        FleetBed.PushAsync(Broker.Url, Topics, KeyPath, Store, dataset, shardDirectory, NullLoggerFactory.Instance);

    public async ValueTask DisposeAsync()
    {
        foreach (var coordinator in _coordinators)
        {
            coordinator.Dispose();
        }

        await Store.DisposeAsync();
        await Broker.DisposeAsync();
        Dir.Dispose();
    }
}
