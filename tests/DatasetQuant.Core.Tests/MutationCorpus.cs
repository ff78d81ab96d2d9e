using DatasetQuant.Core.Datasets;
using DatasetQuant.Core.Progressive;
using DatasetQuant.Core.Quantization;
using DatasetQuant.Testing;

namespace DatasetQuant.Core.Tests;

/// <summary>A device's two files after some layers: its shard and its held increments, as bytes.</summary>
internal sealed record DeviceCopy(byte[] Shard, byte[] Held, int Layers);

/// <summary>
/// One embedded set as the project writes it, every file as bytes: the coordinator's full shard, its increment order,
/// its layers in each layout (1, 2, 3; and 4, 5 of the same images quantized as planes) and what a device holds after
/// the first few of them (held increments version 4, and versions 2 and 3 of the fixed-width copy).
/// </summary>
internal sealed record EmbeddedSet(
    string Name, byte[] FullShard, byte[] Order, IReadOnlyDictionary<int, IReadOnlyList<byte[]>> Layers,
    IReadOnlyDictionary<int, DeviceCopy> DeviceAfterLayers, DeviceCopy HeldVersion2, DeviceCopy HeldVersion3);

/// <summary>
/// The valid files the mutation tests start from, written by the project's own writers from real Fashion-MNIST: a grey
/// set (one channel, ten classes, one-byte labels) and a colour one (three channels, 300 classes, two-byte labels).
/// Built once per test run (about a second) and kept as bytes; each test writes its mutants into its own folder.
/// </summary>
internal static class MutationCorpus
{
    /// <summary>Layers a device applies before its copy is taken (the later layers are then the next it would take).</summary>
    public const int DeviceLayers = 3;

    private static readonly Lazy<EmbeddedSet> LazyGrey = new(() => Build("grey", Samples.FashionMnistTest.Take(96)));

    private static readonly Lazy<EmbeddedSet> LazyColour = new(() => Build("colour", Samples.ThreeChannels(Samples.FashionMnistTest.Take(40), classCount: 300)));

    public static EmbeddedSet Grey => LazyGrey.Value;

    public static EmbeddedSet Colour => LazyColour.Value;

    public static IEnumerable<EmbeddedSet> Sets => [Grey, Colour];

    private static EmbeddedSet Build(string name, ImageDataset data)
    {
        using var dir = new TempDirectory("dq-mutation-corpus");
        var full = DatasetQuantizer.Quantize(data, new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = dir.File("full"), ShardPrefix = name, EmbeddedCodes = true, MaxDegreeOfParallelism = 1,
        });
        var orderPath = Path.Combine(dir.Path, "full", IncrementOrder.FileName(name));
        var order = IncrementOrder.Read(orderPath);
        var layers = new Dictionary<int, IReadOnlyList<byte[]>>();
        var devices = new Dictionary<int, DeviceCopy>();
        foreach (var version in new[] { 1, 2, 3 })
        {
            // Growth of a half: a few layers, so that a mutant layer is small and one of the next ones.
            var built = LayerBuilder.Build(full.ShardPaths, order, dir.File($"layers-v{version}"), name, minimumBytes: 2048, growth: 0.5, versionMajor: version);
            layers[version] = [.. built.Select(l => File.ReadAllBytes(l.Path))];
            devices[version] = Device(dir.File($"device-v{version}"), name, layers[version], HeldIncrements.LatestVersion);
        }

        var planes = DatasetQuantizer.Quantize(data, new QuantizeOptions
        {
            Budget = Budget.Parse("8bpp"), OutputDirectory = dir.File("planes"), ShardPrefix = name, PlaneCodes = true, MaxDegreeOfParallelism = 1,
        });
        var planesOrder = IncrementOrder.Read(Path.Combine(dir.Path, "planes", IncrementOrder.FileName(name)));
        foreach (var version in new[] { LayerFile.PlanesVersion, LayerFile.DirectoryPlanesVersion })
        {
            var built = LayerBuilder.Build(planes.ShardPaths, planesOrder, dir.File($"layers-v{version}"), name, minimumBytes: 2048, growth: 0.5, planesVersion: version);
            layers[version] = [.. built.Select(l => File.ReadAllBytes(l.Path))];
            devices[version] = Device(dir.File($"device-v{version}"), name, layers[version], HeldIncrements.LatestVersion);
        }

        return new EmbeddedSet(name, File.ReadAllBytes(full.ShardPaths.Single()), File.ReadAllBytes(orderPath), layers, devices,
            Device(dir.File("device-held-v2"), name, layers[3], heldVersion: 2), Device(dir.File("device-held-v3"), name, layers[3], heldVersion: 3));
    }

    private static DeviceCopy Device(string directory, string name, IReadOnlyList<byte[]> layers, int heldVersion)
    {
        Directory.CreateDirectory(directory);
        var device = ProgressiveHoldings.Open(directory, name, heldVersion);
        var count = Math.Min(DeviceLayers, layers.Count - 1);
        device.Apply([.. layers.Take(count)], [.. Enumerable.Range(0, count).Select(l => $"{name}-L{l:D5}.dql")]);
        return new DeviceCopy(File.ReadAllBytes(device.ShardPath), File.ReadAllBytes(device.HeldPath), count);
    }

    /// <summary>Writes a device copy as <c>{name}.dqs</c> and <c>{name}.dqh</c> into <paramref name="directory"/> (created if missing).</summary>
    public static void Install(DeviceCopy copy, string directory, string name)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, name + ".dqs"), copy.Shard);
        File.WriteAllBytes(Path.Combine(directory, name + HeldIncrements.FileExtension), copy.Held);
    }
}
