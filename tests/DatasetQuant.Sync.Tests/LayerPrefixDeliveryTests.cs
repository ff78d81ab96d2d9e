using System.Buffers.Binary;
using System.Text.Json;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests;

/// <summary>
/// Protocol version 3 over Debian's mosquitto on loopback: real Fashion-MNIST published as layers and, at the budgets
/// given, the copy a device holds there served whole; real coordinator publisher and repair responder, real devices.
/// </summary>
public sealed class LayerPrefixDeliveryTests(ITestOutputHelper output)
{
    private const int Samples = 2000;

    /// <summary>Format 6, and formats 4 and 3 as a coordinator publishes for fleets of older devices: the held increments version each counts, written.</summary>
    [Theory]
    [InlineData(DatasetManifest.GapHeldFormat, 4)]
    [InlineData(DatasetManifest.CompactHeldFormat, 3)]
    [InlineData(DatasetManifest.PrefixesFormat, 2)]
    public async Task A_device_at_a_budget_the_layers_end_at_receives_its_copy_whole_and_a_rise_then_pulls_only_the_layers_after_it(int format, int heldVersion)
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        var budgets = new BudgetPublisher(bed.Coordinator, bed.Topics);
        await budgets.PublishAsync("dev", version: 1, cut);
        var device = await fleet.StartDeviceAsync("dev");
        var published = await bed.PublishAsync("fmnist", 1, source, [cut], format);
        var manifest = published.Manifest;
        Assert.Equal(format, manifest.Format);
        var prefix = ManifestPrefix.List(manifest).Single();
        Assert.Equal(heldVersion, BinaryPrimitives.ReadUInt16LittleEndian(File.ReadAllBytes(published.ShardPath(prefix.Held)).AsSpan(4)));
        var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, cut);
        Assert.Equal(layers, prefix.Layers);

        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{held} bytes held", bed.Log, 60_000);
        output.WriteLine($"budget {cut}: the prefix of {layers} layers, {held} bytes kept, {device.Engine!.ChunkBytesReceived} received");
        // Exactly the copy's two files, each chunk once with its frame header: what it keeps and nothing more.
        Assert.Equal(held, prefix.Shard.Size + prefix.Held.Size);
        Assert.Equal(held + FrameHeaders(manifest, prefix.Shard, prefix.Held), device.Engine!.ChunkBytesReceived);
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected-1bpp.dqs")), File.ReadAllBytes(HeldShard(device)));
        Assert.Equal(File.ReadAllBytes(published.ShardPath(prefix.Held)), File.ReadAllBytes(Path.ChangeExtension(HeldShard(device), ".dqh")));
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(device.DatasetDirectory("fmnist")).Select(Path.GetFileName).Order());
        Assert.Contains(bed.Log.Lines, l => l.Contains($"Installed the prefix of {layers} layers of dataset fmnist", StringComparison.Ordinal));

        // Above the copy, the layers after it: a prefix costs more than the precision a rise adds.
        var before = device.Engine.ChunkBytesReceived;
        var higher = EmbeddedFashionMnist.BudgetBytes(2, Samples);
        await budgets.PublishAsync("dev", version: 2, higher);
        var (layers2, increments2, held2) = EmbeddedFashionMnist.Prefix(manifest, higher);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held2, $"{held2} bytes held", bed.Log, 60_000);
        var added = manifest.Shards.Skip(layers).Take(layers2 - layers).ToArray();
        Assert.Equal(added.Sum(s => s.Size) + FrameHeaders(manifest, added), device.Engine.ChunkBytesReceived - before);
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments2, bed.Root.File("expected-2bpp.dqs")), File.ReadAllBytes(HeldShard(device)));

        // And back down: local, nothing received, and the copy is again byte for byte the one served at the cut.
        before = device.Engine.ChunkBytesReceived;
        await budgets.PublishAsync("dev", version: 3, cut);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held, $"{held} bytes held again", bed.Log, 60_000);
        Assert.Equal(before, device.Engine.ChunkBytesReceived);
        Assert.Equal(File.ReadAllBytes(published.ShardPath(prefix.Held)), File.ReadAllBytes(Path.ChangeExtension(HeldShard(device), ".dqh")));
    }

    /// <summary>
    /// A new device meets the retained manifest before the coordinator has planned its budget (its answer to the
    /// device's first state report): the device waits for that budget instead of pulling what nothing limits yet, then
    /// receives the copy served whole at it and nothing else. With no budget coming it pulls once the wait is over.
    /// </summary>
    [Fact]
    public async Task A_new_device_waits_for_its_first_budget_before_it_pulls()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        var manifest = (await bed.PublishAsync("fmnist", 1, source, [cut])).Manifest;
        var prefix = ManifestPrefix.List(manifest).Single();
        var held = prefix.Shard.Size + prefix.Held.Size;

        var device = await fleet.StartDeviceAsync("dev", o => o.FirstBudgetWait = TimeSpan.FromSeconds(30));
        var alone = await fleet.StartDeviceAsync("alone", o => o.FirstBudgetWait = TimeSpan.FromSeconds(1));
        await Task.Delay(1000); // the time a coordinator takes to plan and publish the budget, and more
        Assert.Equal(0, device.Engine!.ChunkBytesReceived);
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, cut);

        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{held} bytes held", bed.Log, 60_000);
        Assert.Equal(held + FrameHeaders(manifest, prefix.Shard, prefix.Held), device.Engine!.ChunkBytesReceived);
        await SyncTestBed.WaitUntilAsync(() => alone.Engine!.HeldBytes == manifest.FullHeldBytes, "every layer held without a budget", bed.Log, 60_000);
    }

    [Fact]
    public async Task A_prefix_cut_off_by_a_power_cut_is_resumed_and_installed_after_the_restart()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var quota = new FileInfo(Directory.GetFiles(source, "*.dqs").Single()).Length / 3;
        var manifest = (await bed.PublishAsync("fmnist", 1, source, [quota])).Manifest;
        var prefix = ManifestPrefix.List(manifest).Single();
        var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, quota);
        Assert.Equal(layers, prefix.Layers);

        // The prefix's shard is being assembled (16 KiB chunks, one per pull) when the power goes. It may complete
        // between the look and the cut: then a new device tries again.
        TestDevice? device = null;
        long receivedBefore = 0;
        for (var attempt = 0; attempt < 5 && device is null; attempt++)
        {
            var candidate = await fleet.StartDeviceAsync($"small-{attempt}", o => (o.FlashQuotaBytes, o.MaxChunksPerPull) = (quota, 1));
            var partial = Path.Combine(candidate.DatasetDirectory("fmnist"), prefix.Shard.Name + ".partial");
            await SyncTestBed.WaitUntilAsync(
                () => (File.Exists(partial) && candidate.Engine!.ChunkBytesReceived >= 2 * SyncTestBed.ChunkSize) || candidate.Holds("fmnist", 1), "the prefix being assembled", bed.Log, 60_000);
            await candidate.StopAsync();
            if (File.Exists(partial))
            {
                (device, receivedBefore) = (candidate, candidate.Engine!.ChunkBytesReceived);
            }
        }

        Assert.NotNull(device);
        await fleet.RestartDeviceAsync(device);

        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), "the prefix installed", bed.Log, 60_000);
        Assert.True(bed.Log.Contains($"Resuming shard fmnist/{prefix.Shard.Name}"), "the prefix's shard was not resumed");
        // What was on flash before the cut is not fetched again (a quarter of the shard); a few chunks in flight may come twice.
        var received = receivedBefore + device.Engine!.ChunkBytesReceived;
        Assert.InRange(received, held, held + FrameHeaders(manifest, prefix.Shard, prefix.Held) + (4 * (SyncTestBed.ChunkSize + 46)));
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected.dqs")), File.ReadAllBytes(HeldShard(device)));
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(device.DatasetDirectory("fmnist")).Select(Path.GetFileName).Order());
    }

    /// <summary>One frame header (40 bytes and the dataset's name) per chunk of each file.</summary>
    private static long FrameHeaders(DatasetManifest manifest, params ManifestShard[] files) => files.Sum(f => f.ChunkCount(manifest.ChunkSize) * (40L + manifest.Dataset.Length));

    [Fact]
    public async Task A_power_cut_between_the_renames_of_a_prefix_install_is_finished_on_restart_with_nothing_fetched()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(0.5, Samples);
        await new BudgetPublisher(bed.Coordinator, bed.Topics).PublishAsync("dev", version: 1, cut);
        var device = await fleet.StartDeviceAsync("dev");
        var manifest = (await bed.PublishAsync("fmnist", 1, source, [cut])).Manifest;
        var prefix = ManifestPrefix.List(manifest).Single();
        var (_, increments, held) = EmbeddedFashionMnist.Prefix(manifest, cut);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{held} bytes held", bed.Log, 60_000);
        await device.StopAsync();

        // What a cut between the two renames leaves: the prefix's shard in place, its held increments under their own name.
        var directory = device.DatasetDirectory("fmnist");
        File.Move(Path.Combine(directory, "fmnist.dqh"), Path.Combine(directory, prefix.Held.Name));
        await fleet.RestartDeviceAsync(device);

        await SyncTestBed.WaitUntilAsync(() => bed.Log.Contains("Finished installing the prefix") && device.Engine!.HeldBytes == held, "the install finished", bed.Log, 30_000);
        await Task.Delay(500);
        Assert.Equal(0, device.Engine!.ChunkBytesReceived);
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected.dqs")), File.ReadAllBytes(HeldShard(device)));
    }

    [Fact]
    public async Task Layer_files_of_a_batch_a_prefix_replaced_do_not_stay_on_flash()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        // Published, not served yet: the device's pulls for layer 0 go unanswered.
        var result = await bed.Publisher.PublishAsync("fmnist", 1, source, new OpaqueShardDescriber(), SyncTestBed.ChunkSize, cutAtHeldBytes: [cut]);
        var manifest = result.Dataset.Manifest;
        var budgets = new BudgetPublisher(bed.Coordinator, bed.Topics);
        // A budget that keeps layer 0 only: no prefix fits it, so the device starts on layer 0.
        await budgets.PublishAsync("dev", version: 1, manifest.Shards[0].Layer!.HeldBytesAfter);
        var device = await fleet.StartDeviceAsync("dev");
        var directory = device.DatasetDirectory("fmnist");
        await SyncTestBed.WaitUntilAsync(() => File.Exists(Path.Combine(directory, manifest.Shards[0].Name + ".partial")), "layer 0 being assembled", bed.Log);

        // The budget rises to the cut: the prefix costs less than its layers, so the device takes it instead.
        await budgets.PublishAsync("dev", version: 2, cut);
        bed.Catalog.Add(result.Dataset);
        var (_, _, held) = EmbeddedFashionMnist.Prefix(manifest, cut);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{held} bytes held", bed.Log, 60_000);
        Assert.Contains(bed.Log.Lines, l => l.Contains("Installed the prefix", StringComparison.Ordinal));
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());

        await fleet.RestartDeviceAsync(device);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "restarted", bed.Log);
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task A_prefix_that_is_not_its_layers_copy_is_refused_for_its_version_and_the_device_takes_the_layers()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        var budgets = new BudgetPublisher(bed.Coordinator, bed.Topics);
        await budgets.PublishAsync("dev", version: 1, cut);
        var device = await fleet.StartDeviceAsync("dev");

        var (published, _) = PublishDamagedPrefix(bed, source, cut);
        await bed.Publisher.PublishAsync(published);

        var (layers, increments, held) = EmbeddedFashionMnist.Prefix(published.Manifest, cut);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && device.Holds("fmnist", 1), $"{held} bytes held from layers", bed.Log, 60_000);
        Assert.Contains(bed.Log.Lines, l => l.Contains($"The prefix of {layers} layers of dataset fmnist version 1 is refused", StringComparison.Ordinal));
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected.dqs")), File.ReadAllBytes(HeldShard(device)));
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(device.DatasetDirectory("fmnist")).Select(Path.GetFileName).Order());
        // Refused for the version in the state file, so a restart does not take it again.
        using var state = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(device.Options.DataDirectory, "sync-state.json")));
        Assert.Equal([layers], state.RootElement.GetProperty("datasets").GetProperty("fmnist").GetProperty("refusedPrefixes").EnumerateArray().Select(e => e.GetInt32()));
        output.WriteLine($"refused prefix of {layers} layers; {held} bytes held from layers, {device.Engine!.ChunkBytesReceived} received");
    }

    [Fact]
    public async Task Layer_transfers_cut_off_by_a_restart_do_not_stay_on_flash_when_a_prefix_replaces_them()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        // Published, not served yet: the device's pulls for layer 0 go unanswered.
        var result = await bed.Publisher.PublishAsync("fmnist", 1, source, new OpaqueShardDescriber(), SyncTestBed.ChunkSize, cutAtHeldBytes: [cut]);
        var manifest = result.Dataset.Manifest;
        var device = await fleet.StartDeviceAsync("dev", o => o.FlashQuotaBytes = manifest.Shards[0].Layer!.HeldBytesAfter);
        var directory = device.DatasetDirectory("fmnist");
        await SyncTestBed.WaitUntilAsync(() => File.Exists(Path.Combine(directory, manifest.Shards[0].Name + ".partial")), "layer 0 being assembled", bed.Log);
        await device.StopAsync();

        // Its budget rose while it was off: the prefix is cheaper than the layers, the half-fetched layer 0 is not wanted.
        device.Options.FlashQuotaBytes = cut;
        bed.Catalog.Add(result.Dataset);
        await fleet.RestartDeviceAsync(device);
        var (_, _, held) = EmbeddedFashionMnist.Prefix(manifest, cut);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held && bed.Log.Contains("Installed the prefix"), "installed", bed.Log, 60_000);
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public async Task After_a_prefix_is_refused_the_layers_already_on_flash_are_applied()
    {
        await using var fleet = await MosquittoFleet.StartAsync();
        var bed = fleet.Bed;
        var source = EmbeddedFashionMnist.Write(bed.Root.File("fmnist-embedded"), Samples);
        var cut = EmbeddedFashionMnist.BudgetBytes(1, Samples);
        var (published, prefix) = PublishDamagedPrefix(bed, source, cut);
        var device = await fleet.StartDeviceAsync("dev", o => o.FlashQuotaBytes = 1);
        await bed.Publisher.PublishAsync(published);
        await SyncTestBed.WaitUntilAsync(() => device.Holds("fmnist", 1), "the manifest taken", bed.Log);
        await device.StopAsync();

        // What a budget rise landing while a batch's last layer commits can leave: that batch verified and not applied,
        // and the prefix's two files verified.
        var manifest = published.Manifest;
        var directory = device.DatasetDirectory("fmnist");
        var (layers, increments, held) = EmbeddedFashionMnist.Prefix(manifest, cut);
        foreach (var file in manifest.Shards.Take(layers).Append(prefix.Shard).Append(prefix.Held))
        {
            File.Copy(published.ShardPath(file), Path.Combine(directory, file.Name));
        }

        device.Options.FlashQuotaBytes = cut;
        await fleet.RestartDeviceAsync(device);
        await SyncTestBed.WaitUntilAsync(() => device.Engine!.HeldBytes == held, $"{held} bytes held from the layers on flash", bed.Log, 30_000);
        Assert.Contains(bed.Log.Lines, l => l.Contains("is refused", StringComparison.Ordinal));
        Assert.Equal(EmbeddedFashionMnist.Expected(source, increments, bed.Root.File("expected.dqs")), File.ReadAllBytes(HeldShard(device)));
        Assert.Equal(["fmnist.dqh", "fmnist.dqs"], Directory.GetFiles(directory).Select(Path.GetFileName).Order());
    }

    /// <summary>A coordinator that signs a damaged prefix: its held increments with one byte changed, hashed and signed as they are.</summary>
    private static (PublishedDataset Published, (int Layers, ManifestShard Shard, ManifestShard Held) Prefix) PublishDamagedPrefix(SyncTestBed bed, string source, long cut)
    {
        var built = LayeredManifestBuilder.Build(SyncTestBed.Fleet, "fmnist", 1, source, SyncTestBed.ChunkSize, cutAtHeldBytes: [cut]);
        var directory = LayeredManifestBuilder.LayerDirectory(source, 1);
        var prefix = ManifestPrefix.List(built).Single();
        var heldPath = Path.Combine(directory, prefix.Held.Name);
        var bytes = File.ReadAllBytes(heldPath);
        bytes[24] ^= 0x5A;
        File.WriteAllBytes(heldPath, bytes);
        var damaged = new DatasetManifest
        {
            Format = built.Format, Fleet = built.Fleet, Dataset = built.Dataset, Version = built.Version, ChunkSize = built.ChunkSize, CreatedUnixSeconds = built.CreatedUnixSeconds,
            Shards = [.. built.Shards.Select(s => s.Id != prefix.Held.Id ? s : new ManifestShard
            {
                Id = s.Id, Name = s.Name, Size = s.Size, Sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), BitBudget = s.BitBudget,
                BitsPerPixel = s.BitsPerPixel, SampleCount = s.SampleCount, Prefix = s.Prefix,
            })],
        };
        var published = new PublishedDataset(bed.Signer.Sign(damaged), directory);
        bed.Catalog.Add(published);
        return (published, ManifestPrefix.List(damaged).Single());
    }

    private static string HeldShard(TestDevice device) => LayeredDeliveryTests.HeldShard(device);
}
