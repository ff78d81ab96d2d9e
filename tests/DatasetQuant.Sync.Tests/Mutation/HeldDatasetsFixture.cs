using System.Security.Cryptography;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// A test bed whose coordinator serves two datasets a device holds before the mutants come: <c>keep</c>, whole shards
/// of random bytes (format 1), and <c>lay</c>, 300 Fashion-MNIST images quantized with embedded codes and published as
/// layers with prefixes (format 4). Each test starts its own device on them; the costly quantization runs once.
/// </summary>
public sealed class HeldDatasetsFixture : IAsyncLifetime
{
    public const string Keep = "keep";

    public const string Lay = "lay";

    public SyncTestBed Bed { get; private set; } = null!;

    public PublishedDataset KeepDataset { get; private set; } = null!;

    public PublishedDataset LayDataset { get; private set; } = null!;

    public string KeepDirectory { get; private set; } = "";

    /// <summary>The coordinator's private key, to sign mutants as the coordinator would.</summary>
    public ECDsa Key { get; private set; } = null!;

    /// <summary>What a device holding both at full precision holds: a budget at or above it changes nothing.</summary>
    public long FullBytes => KeepDataset.Manifest.TotalBytes + LayDataset.Manifest.FullHeldBytes;

    public async Task InitializeAsync()
    {
        Bed = new SyncTestBed();
        KeepDirectory = Bed.CreateShards(Keep, 20_000, 3_000);
        KeepDataset = await Bed.PublishAsync(Keep, 1, KeepDirectory);
        var source = EmbeddedFashionMnist.Write(Bed.Root.File(Lay), samples: 300);
        LayDataset = await Bed.PublishAsync(Lay, 1, source, cutAtHeldBytes: [20_000, 40_000]);
        Assert.Equal(DatasetManifest.GapHeldFormat, LayDataset.Manifest.Format);
        Assert.NotEmpty(ManifestPrefix.List(LayDataset.Manifest));
        Key = SigningKeyPem.LoadPrivateKey(Bed.Root.File("coordinator.pem"));
    }

    /// <summary>A new device that holds both datasets in full (no budget), and its harness.</summary>
    internal async Task<(TestDevice Device, MutationHarness Harness)> StartDeviceAsync(string id, Action<Device.DeviceSyncOptions>? configure = null)
    {
        var device = Bed.AddDevice(id, configure).Start();
        await SyncTestBed.WaitUntilAsync(() => device.Holds(Keep, 1) && device.Holds(Lay, 1), $"{id} to hold both datasets", Bed.Log);
        device.AssertHoldsExactly(Keep, KeepDirectory);
        return (device, new MutationHarness(Bed, device));
    }

    public async Task DisposeAsync()
    {
        Key.Dispose();
        await Bed.DisposeAsync();
    }
}
