using System.Security.Cryptography;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Shards;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// A generator gets a share of a device's budget only where its mixing rule says it adds something: through the real
/// device engine, Debian's mosquitto on loopback and the MQTTnet client, with real Fashion-MNIST shards requantized.
/// </summary>
public sealed class GeneratorBudgetTests
{
    [Fact]
    public async Task A_generator_whose_rule_gives_0_is_not_held_and_the_shards_get_its_bytes_one_whose_rule_is_positive_keeps_its_share()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        var coordinator = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" });
        await using var bed = new SyncTestBed(coordinatorConnection: coordinator);
        var device = bed.AddDevice("pi-small", requantizer: new DqsShardRequantizer());
        device.Options.BrokerUrl = broker.Url;
        device.Start(await factory.ConnectAsync(device.Options.ToConnectionOptions(DeviceSyncEngine.CreateWill(device.Options))));
        // A device whose own configuration sets the synthetic share (dq-agent with FineTune:SyntheticRatio) keeps it.
        var keeps = bed.AddDevice("pi-configured", o => o.FollowGeneratorMixingRule = false);
        keeps.Options.BrokerUrl = broker.Url;
        keeps.Start(await factory.ConnectAsync(keeps.Options.ToConnectionOptions(DeviceSyncEngine.CreateWill(keeps.Options))));
        await Task.Delay(500); // let the devices subscribe; a late one pulls what it missed

        var shards = FashionMnistShards.Write(bed.Root.File("fmnist-8bit"), samples: 1000, shardSize: 400_000);
        var shardResult = await bed.Publisher.PublishAsync("fmnist", 1, shards, new DqsShardDescriber(), SyncTestBed.ChunkSize);
        bed.Catalog.Add(shardResult.Dataset);
        var shardFullBytes = shardResult.Dataset.Manifest.TotalBytes;

        // Version 1's rule, measured on the frontier: no gain at any size. The device holds its manifest, not its model.
        var idle = WriteGenerator(bed.Root.File("gen-v1"), 300_000, "[{\"shardBytes\": 100000, \"ratio\": 0}, {\"shardBytes\": 10000000, \"ratio\": 0}]");
        var generatorBytes = new FileInfo(idle).Length + new FileInfo(Path.ChangeExtension(idle, ".json")).Length;
        var ruleBytes = new FileInfo(Path.ChangeExtension(idle, ".json")).Length;
        await PublishGeneratorAsync(bed, idle, version: 1);
        var budget = generatorBytes + (shardFullBytes / 2);
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("pi-small", version: 1, budget);

        var held = device.DatasetDirectory("fm-dim");
        await SyncTestBed.WaitUntilAsync(
            () => device.Holds("fmnist", 1) && File.Exists(Path.Combine(held, "G.json")) && !File.Exists(Path.Combine(held, "G.onnx"))
                  && ShardBytes(device) > budget - generatorBytes,
            "the idle generator's model gone and the shards grown into its bytes", bed.Log, timeoutMs: 60_000);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes <= budget, "holdings within the budget", bed.Log);
        Assert.InRange(ShardBytes(device), (budget - ruleBytes) * 8 / 10, budget - ruleBytes);
        Assert.True(bed.Log.Contains("mixing rule gives a share of 0"), "the device says why it does not hold the model");
        await SyncTestBed.WaitUntilAsync(() => keeps.Holds("fm-dim", 1), "the configured device to hold the generator", bed.Log, timeoutMs: 60_000);
        Assert.Equal(File.ReadAllBytes(idle), File.ReadAllBytes(Path.Combine(keeps.DatasetDirectory("fm-dim"), "G.onnx")));

        // Version 2's rule gives a share at these sizes: held whole, and the shards share what it leaves, as before.
        var useful = WriteGenerator(bed.Root.File("gen-v2"), 300_000, "[{\"shardBytes\": 100000, \"ratio\": 0.25}]");
        await PublishGeneratorAsync(bed, useful, version: 2);
        await SyncTestBed.WaitUntilAsync(
            () => File.Exists(Path.Combine(held, "G.onnx")) && device.Engine!.HeldBytes <= budget,
            "the useful generator held within the budget", bed.Log, timeoutMs: 60_000);
        Assert.Equal(File.ReadAllBytes(useful), File.ReadAllBytes(Path.Combine(held, "G.onnx")));
        Assert.InRange(ShardBytes(device), (budget - generatorBytes) * 8 / 10, budget - generatorBytes);
    }

    private static long ShardBytes(TestDevice device) =>
        Directory.Exists(device.DatasetDirectory("fmnist")) ? Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.dqs").Sum(f => new FileInfo(f).Length) : 0;

    private static async Task PublishGeneratorAsync(SyncTestBed bed, string model, long version)
    {
        var manifest = GeneratorManifestBuilder.Build(SyncTestBed.Fleet, "fm-dim", version, model, SyncTestBed.ChunkSize);
        var published = new PublishedDataset(bed.Signer.Sign(manifest), Path.GetDirectoryName(model)!);
        var result = await bed.Publisher.PublishAsync(published);
        bed.Catalog.Add(result.Dataset);
    }

    /// <summary>Random model bytes and a generator manifest carrying <paramref name="mixing"/>: the sync layer reads only the rule.</summary>
    private static string WriteGenerator(string directory, int modelBytes, string mixing)
    {
        Directory.CreateDirectory(directory);
        var model = Path.Combine(directory, "G.onnx");
        File.WriteAllBytes(model, RandomNumberGenerator.GetBytes(modelBytes));
        File.WriteAllText(Path.Combine(directory, "G.json"), $"{{\"format\":\"dq-generator/1\",\"kind\":\"dim\",\"mixing\":{mixing}}}");
        return model;
    }
}
