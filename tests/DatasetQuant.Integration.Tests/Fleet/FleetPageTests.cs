using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using DatasetQuant.Coordinator.Store;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Integration.Tests.Fleet;

/// <summary>
/// <c>dq-coordinator serve --http</c> as a process over mosquitto and a fleet in PostgreSQL, with three devices that
/// reported, a published dataset and a repair answered; headless Chromium loads the page and the test reads what the
/// browser built. Set DQ_FLEET_PAGE_SCREENSHOT=docs/fleet-page.png to keep the screenshot it takes.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed partial class FleetPageTests(FashionMnistShardSet shards, PostgresFixture postgres, ITestOutputHelper output)
    : IClassFixture<FashionMnistShardSet>, IClassFixture<PostgresFixture>
{
    private const long MiB = 1L << 20;

    [Fact]
    public async Task The_fleet_page_shows_devices_budgets_holdings_datasets_and_repairs_in_a_real_browser()
    {
        await using var bed = await FleetBed.StartAsync();
        var db = await postgres.Server.CreateDatabaseAsync();
        var port = MosquittoBroker.FreeLoopbackPort();
        using var serve = ServeProcess.Start("serve", "--broker", bed.Broker.Url, "--fleet", FleetBed.FleetName, "--db", db, "--key", bed.KeyPath,
            "--client-id", "coordinator-a", "--http", $"127.0.0.1:{port}", "--device-board", "pi-*=rpi-4", "--device-board", "jet-*=jetson-orin-nano");
        await serve.WaitForOutputAsync($"Fleet page at http://127.0.0.1:{port}/", TimeSpan.FromSeconds(60));
        var url = $"http://127.0.0.1:{port}/";

        // A dataset recorded in the same store and broadcast; then three devices report, one of them holding it all.
        await using var store = await PostgresFleetStore.OpenAsync(db);
        var push = await FleetBed.PushAsync(bed.Broker.Url, bed.Topics, bed.KeyPath, store, "fmnist", shards.Directory, bed.LoggerFactory);
        var manifest = (await store.GetDatasetAsync(FleetBed.FleetName, "fmnist"))!;
        await store.RecordDatasetAsync(new DatasetRecord(FleetBed.FleetName, "fmnist-dim", 1, DateTimeOffset.UtcNow, "/srv/dim",
            [new DatasetShard(0, "G.onnx", 3_626_241, "cc", 0), new DatasetShard(1, "G.json", 600, "dd", 0)]) { Kind = DatasetKinds.Generator });
        await using var devices = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = "stand-ins" });
        var now = DateTimeOffset.UtcNow;
        await ReportAsync(devices, bed, "pi-1", 900 * MiB, now, manifest, shardsHeld: manifest.Shards.Count);
        await ReportAsync(devices, bed, "pi-2", 300 * MiB, now, manifest, shardsHeld: 1);
        await ReportAsync(devices, bed, "jet-1", 2000 * MiB, now, manifest, shardsHeld: 0);
        using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(30) };
        await WaitForFleetAsync(http, serve, f => f.GetProperty("devices").EnumerateArray().Count(d => d.GetProperty("budgetDesired").ValueKind == JsonValueKind.Object) == 3
            && f.GetProperty("summary").GetProperty("budgetsPending").GetInt32() == 0);

        // pi-1 applies its budget, jet-1 goes offline, pi-2 asks for the first chunk of its second shard: a real
        // repair, answered by the serving coordinator.
        await devices.PublishAsync(new MqttMessage(bed.Topics.BudgetReported("pi-1"),
            SyncMessageCodec.Serialize(new BudgetReportedMessage { Device = "pi-1", Version = 1, BudgetBytes = 450 * MiB, HeldBytes = manifest.TotalBytes })));
        await devices.PublishAsync(new MqttMessage(bed.Topics.DeviceState("jet-1"),
            SyncMessageCodec.Serialize(new DeviceStateMessage { Device = "jet-1", Status = DeviceStateMessage.Offline, UpdatedUtc = now.AddSeconds(1) })));
        var pull = new PullRequestMessage { Device = "pi-2", Dataset = "fmnist", ManifestVersion = push.Version, Shards = [new PullShard { Id = manifest.Shards[1].ShardId, Missing = Convert.ToBase64String([1]) }] };
        await devices.PublishAsync(new MqttMessage(bed.Topics.DevicePull("pi-2"), SyncMessageCodec.Serialize(pull)));
        await WaitForFleetAsync(http, serve, f => f.GetProperty("summary").GetProperty("online").GetInt32() == 2
            && f.GetProperty("summary").GetProperty("repairsServed").GetInt64() == 1
            && f.GetProperty("devices").EnumerateArray().Single(d => d.GetProperty("id").GetString() == "pi-1").GetProperty("budgetApplied").GetBoolean());

        var dom = await HeadlessChromium.DumpDomAsync(url);
        output.WriteLine(dom);
        Assert.Contains("<title>Fleet lab · dq-coordinator</title>", dom);
        Assert.Contains($"Read from {db} by coordinator-a", dom);
        var pi1 = Row(dom, "device-pi-1");
        Assert.Contains("rpi-4", pi1);
        Assert.Contains("class=\"online\">online", pi1);
        Assert.Contains($"<td class=\"n\">{Coordinator.Commands.ByteSize.Format(900 * MiB - manifest.TotalBytes)}</td>", pi1);
        Assert.Matches("<td>450 MiB v1</td><td>450 MiB v1 ✓</td>", pi1);
        Assert.Contains($"fmnist v{push.Version}: {manifest.Shards.Count} shards", pi1);
        Assert.Contains($"<progress max=\"{manifest.Shards.Count}\" value=\"{manifest.Shards.Count}\"></progress> {manifest.Shards.Count}/{manifest.Shards.Count}", pi1);
        var pi2 = Row(dom, "device-pi-2");
        Assert.Contains("<td>150 MiB v1</td><td>–</td>", pi2);
        Assert.Contains($"value=\"1\"></progress> 1/{manifest.Shards.Count}", pi2);
        var jet = Row(dom, "device-jet-1");
        Assert.Contains("jetson-orin-nano", jet);
        Assert.Contains("class=\"offline\">offline", jet);
        var dataset = Row(dom, "dataset-fmnist");
        Assert.Contains("<td>dataset</td><td>fmnist</td><td>v1</td>", dataset);
        Assert.Contains("<td>generator</td><td>fmnist-dim</td><td>v1</td>", Row(dom, "dataset-fmnist-dim"));
        Assert.Contains($"{push.Chunks} chunks", dataset);
        Assert.Contains("1 of 3", dataset);
        Assert.Contains(">4000<", dataset);
        Assert.Matches(@"<td>pi-2</td><td>fmnist v1</td>\s*<td class=""n"">1</td><td class=""n"">128 KiB</td>", Table(dom, "repairs"));
        Assert.Contains("<li id=\"online-count\"><b>2</b>online</li>", dom);

        var screenshot = bed.Dir.File("fleet-page.png");
        await HeadlessChromium.ScreenshotAsync(url, screenshot, 1400, 900);
        var png = await File.ReadAllBytesAsync(screenshot);
        Assert.True(png.AsSpan(0, 8).SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }) && png.Length > 20_000, $"not a screenshot of a page: {png.Length} bytes");
        if (Environment.GetEnvironmentVariable("DQ_FLEET_PAGE_SCREENSHOT") is { Length: > 0 } keep)
        {
            File.Copy(screenshot, Path.IsPathRooted(keep) ? keep : Path.Combine(AgentProcess.RepositoryRoot, keep), overwrite: true);
        }

        // The API and the metrics say the same; nothing answers a write, and a foreign Host name is refused.
        using (var pi1Json = JsonDocument.Parse(await http.GetStringAsync("api/devices/pi-1")))
        {
            Assert.Equal(450 * MiB, pi1Json.RootElement.GetProperty("budgetDesired").GetProperty("bytes").GetInt64());
            Assert.True(pi1Json.RootElement.GetProperty("budgetApplied").GetBoolean());
            Assert.True(pi1Json.RootElement.GetProperty("transfers")[0].GetProperty("complete").GetBoolean());
        }

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("api/devices/nobody")).StatusCode);
        var metrics = await http.GetStringAsync("metrics");
        Assert.Contains("dq_devices{fleet=\"lab\",state=\"online\"} 2", metrics);
        Assert.Contains($"dq_device_budget_desired_bytes{{fleet=\"lab\",device=\"pi-2\"}} {150 * MiB}", metrics);
        Assert.Contains("dq_dataset_devices_complete{fleet=\"lab\",dataset=\"fmnist\",kind=\"dataset\"} 1", metrics);
        Assert.Contains("dq_dataset_devices_complete{fleet=\"lab\",dataset=\"fmnist-dim\",kind=\"generator\"} 0", metrics);
        Assert.Contains("dq_coordinator_pulls_answered_total{fleet=\"lab\",coordinator=\"coordinator-a\"} 1", metrics);
        Assert.Contains("dq_coordinator_info{fleet=\"lab\",coordinator=\"coordinator-a\",store=\"postgres\"} 1", metrics);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.PostAsync("api/fleet", new StringContent("{}"))).StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, (await http.DeleteAsync("api/devices/pi-1")).StatusCode);
        using var rebinding = new HttpRequestMessage(HttpMethod.Get, "api/fleet");
        rebinding.Headers.Host = "fleet.attacker.example";
        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(rebinding)).StatusCode);
        var page = await http.GetAsync("");
        Assert.Contains("default-src 'none'", page.Headers.GetValues("Content-Security-Policy").Single());

        Assert.Equal(0, await serve.StopAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Serve_refuses_an_http_address_that_is_not_one_and_a_database_it_cannot_reach()
    {
        await using var bed = await FleetBed.StartAsync();
        using (var badHttp = ServeProcess.Start("serve", "--broker", bed.Broker.Url, "--fleet", "lab", "--db", bed.Dir.File("x.db"), "--key", bed.KeyPath, "--http", "fleet.example:80"))
        {
            Assert.Equal(1, await badHttp.WaitForExitAsync(TimeSpan.FromSeconds(60)));
            Assert.Contains("--http: 'fleet.example:80': 'fleet.example' is not an IP address", badHttp.Output);
        }

        var closed = MosquittoBroker.FreeLoopbackPort();
        using var badDb = ServeProcess.Start("serve", "--broker", bed.Broker.Url, "--fleet", "lab", "--db", $"postgres://dq:hunter2@127.0.0.1:{closed}/fleet", "--key", bed.KeyPath);
        Assert.Equal(2, await badDb.WaitForExitAsync(TimeSpan.FromSeconds(90)));
        Assert.Contains($"error: postgres://dq@127.0.0.1:{closed}/fleet: cannot open the fleet database", badDb.Output);
        Assert.DoesNotContain("hunter2", badDb.Output);
    }

    private static async Task WaitForFleetAsync(HttpClient http, ServeProcess serve, Func<JsonElement, bool> condition) =>
        await FleetBed.WaitUntilAsync(async () =>
        {
            using var fleet = JsonDocument.Parse(await http.GetStringAsync("api/fleet"));
            return condition(fleet.RootElement);
        }, TimeSpan.FromSeconds(60), () => serve.Output);

    private static async Task ReportAsync(MqttConnection devices, FleetBed bed, string id, long available, DateTimeOffset at, DatasetRecord dataset, int shardsHeld)
    {
        // Free flash and held bytes add up to what the device can give, so its budget is half of that exactly.
        var held = dataset.Shards.Take(shardsHeld).Select(s => new HeldShardState { Id = s.ShardId, Bytes = s.Bytes }).ToList();
        var state = new DeviceStateMessage
        {
            Device = id,
            FreeFlashBytes = available - held.Sum(s => s.Bytes),
            HeldBytes = held.Sum(s => s.Bytes),
            UpdatedUtc = at,
            Datasets = held.Count == 0 ? [] : [new HeldDatasetState { Name = dataset.Name, ManifestVersion = dataset.ManifestVersion, Complete = shardsHeld == dataset.Shards.Count, Shards = held }],
        };
        await devices.PublishAsync(new MqttMessage(bed.Topics.DeviceState(id), SyncMessageCodec.Serialize(state), Retain: true));
    }

    /// <summary>The table row with this id, as the browser serialized it.</summary>
    private static string Row(string dom, string id)
    {
        var match = Regex.Match(dom, $"<tr id=\"{Regex.Escape(id)}\">(.*?)</tr>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no row {id} in the page:\n{dom}");
        return match.Groups[1].Value;
    }

    private static string Table(string dom, string id)
    {
        var match = Regex.Match(dom, $"<table id=\"{Regex.Escape(id)}\">(.*?)</table>", RegexOptions.Singleline);
        Assert.True(match.Success, $"no table {id} in the page:\n{dom}");
        return match.Groups[1].Value;
    }
}
