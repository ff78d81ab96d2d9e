using System.Security.Cryptography;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Sync.Shards;

namespace DatasetQuant.Sync.Tests;

/// <summary>A generator travels like a dataset (signed manifest, chunks, repair, resume) and is kept whole under a budget.</summary>
public sealed class GeneratorPushTests
{
    [Fact]
    public void The_manifest_lists_model_and_manifest_and_its_kind_is_signed()
    {
        using var root = new DatasetQuant.Testing.TempDirectory();
        var model = WriteGenerator(root.File("gen"), 40_000);
        var manifest = GeneratorManifestBuilder.Build("lab", "fm-dim", 3, model);

        Assert.Equal(DatasetManifest.GeneratorKind, manifest.Kind);
        Assert.Null(manifest.Validate());
        Assert.Equal(["G.onnx", "G.json"], manifest.Shards.Select(s => s.Name));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(model))), manifest.Shards[0].Sha256);

        using var signer = ManifestSigner.FromPemFile(WriteKey(root));
        using var verifier = ManifestVerifier.FromPemFile(root.File("k.pub.pem"));
        var signed = signer.Sign(manifest);
        Assert.True(verifier.TryVerify(signed, out _));

        // Turning a generator into "shards" (so that a device would requantize it) breaks the signature.
        var relabelled = new SignedManifestMessage
        {
            Manifest = new DatasetManifest
            {
                Fleet = manifest.Fleet, Dataset = manifest.Dataset, Version = manifest.Version, ChunkSize = manifest.ChunkSize,
                CreatedUnixSeconds = manifest.CreatedUnixSeconds, Shards = manifest.Shards, Kind = DatasetManifest.ShardsKind,
            },
            KeyId = signed.KeyId,
            Signature = signed.Signature,
        };
        Assert.False(verifier.TryVerify(relabelled, out _));
    }

    [Fact]
    public void A_generator_without_its_json_manifest_is_refused_naming_the_file()
    {
        using var root = new DatasetQuant.Testing.TempDirectory();
        var model = WriteGenerator(root.File("gen"), 1000);
        File.Delete(Path.ChangeExtension(model, ".json"));
        var error = Assert.Throws<FileNotFoundException>(() => GeneratorManifestBuilder.Build("lab", "fm-dim", 1, model));
        Assert.Contains("G.json", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_device_stopped_mid_push_resumes_the_generator_and_ignores_an_older_version()
    {
        await using var bed = new SyncTestBed();
        var delivered = 0;
        bed.Broker.Deliver = (client, message) =>
            client == "pi" && message.Topic.EndsWith("/chunks", StringComparison.Ordinal) && Interlocked.Increment(ref delivered) > 5 ? [] : [message];
        var device = bed.AddDevice("pi").Start();
        var model = WriteGenerator(bed.Root.File("gen-v2"), 150_000); // 10 chunks of 16 KiB + the manifest's 1
        await device.SubscribedAsync("fm-dim");
        await PublishGeneratorAsync(bed, model, version: 2);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.ChunksStored == 5, "5 chunks on flash", bed.Log);

        await device.StopAsync();
        bed.Broker.Deliver = null;
        var framesBefore = bed.Responder.FramesSent;
        device.Start();
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fm-dim", 2), "the restarted device to hold the generator", bed.Log);

        var held = device.DatasetDirectory("fm-dim");
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(Path.Combine(held, "G.onnx")));
        Assert.Equal(File.ReadAllBytes(Path.ChangeExtension(model, ".json")), File.ReadAllBytes(Path.Combine(held, "G.json")));
        Assert.Equal(11 - 5, bed.Responder.FramesSent - framesBefore);

        // Version 1 arrives late: the device keeps version 2.
        var older = WriteGenerator(bed.Root.File("gen-v1"), 20_000);
        await PublishGeneratorAsync(bed, older, version: 1);
        await Task.Delay(500);
        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(Path.Combine(held, "G.onnx")));
    }

    [Fact]
    public async Task Under_a_budget_the_generator_is_kept_whole_and_the_shards_share_what_it_leaves()
    {
        await using var bed = new SyncTestBed();
        var device = bed.AddDevice("dev", requantizer: new DqsShardRequantizer()).Start();
        var shards = FashionMnistShards.Write(bed.Root.File("fmnist-8bit"), samples: 1000, shardSize: 400_000);
        var model = WriteGenerator(bed.Root.File("gen"), 200_000);
        var generatorBytes = new FileInfo(model).Length + new FileInfo(Path.ChangeExtension(model, ".json")).Length;
        var shardResult = await bed.Publisher.PublishAsync("fmnist", 1, shards, new DqsShardDescriber(), SyncTestBed.ChunkSize);
        bed.Catalog.Add(shardResult.Dataset);
        await PublishGeneratorAsync(bed, model, version: 1);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1) && device.Holds("fm-dim", 1), "shards and generator", bed.Log);

        var budget = generatorBytes + (shardResult.Dataset.Manifest.TotalBytes / 2);
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, budget);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes <= budget, "holdings within the budget", bed.Log);

        Assert.Equal(File.ReadAllBytes(model), File.ReadAllBytes(Path.Combine(device.DatasetDirectory("fm-dim"), "G.onnx")));
        var shardBytes = Directory.GetFiles(device.DatasetDirectory("fmnist"), "*.dqs").Sum(f => new FileInfo(f).Length);
        Assert.InRange(shardBytes, (budget - generatorBytes) * 8 / 10, budget - generatorBytes);

        // A budget below the generator's size drops it (it cannot be shrunk) and leaves the shards the rest.
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 2, generatorBytes - 1);
        // The engine drops the generator and requantizes the shards in one pass, in whichever order it holds them:
        // wait for both.
        await SyncTestBed.WaitUntilAsync(
            () => !File.Exists(Path.Combine(device.DatasetDirectory("fm-dim"), "G.onnx")) && device.Engine!.HeldBytes <= generatorBytes - 1,
            "the generator dropped and the shards within the budget", bed.Log);
    }

    private static async Task PublishGeneratorAsync(SyncTestBed bed, string model, long version)
    {
        var manifest = GeneratorManifestBuilder.Build(SyncTestBed.Fleet, "fm-dim", version, model, SyncTestBed.ChunkSize);
        var published = new PublishedDataset(bed.Signer.Sign(manifest), Path.GetDirectoryName(model)!);
        var result = await bed.Publisher.PublishAsync(published);
        bed.Catalog.Add(result.Dataset);
    }

    /// <summary>Random model bytes and a small JSON manifest: the transport does not look inside either.</summary>
    private static string WriteGenerator(string directory, int modelBytes)
    {
        Directory.CreateDirectory(directory);
        var model = Path.Combine(directory, "G.onnx");
        File.WriteAllBytes(model, RandomNumberGenerator.GetBytes(modelBytes));
        File.WriteAllText(Path.Combine(directory, "G.json"), "{\"format\":\"dq-generator/1\",\"kind\":\"dim\"}");
        return model;
    }

    private static string WriteKey(DatasetQuant.Testing.TempDirectory root)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        File.WriteAllText(root.File("k.pem"), key.ExportPkcs8PrivateKeyPem());
        File.WriteAllText(root.File("k.pub.pem"), key.ExportSubjectPublicKeyInfoPem());
        return root.File("k.pem");
    }
}
