using System.Security.Cryptography;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>Each published version of a layered dataset has its own layer folder, since its cuts follow the fleet's budgets then.</summary>
public sealed class LayerVersionFolderTests
{
    [Fact]
    public void A_publish_under_other_budgets_leaves_the_layers_of_the_version_before_as_signed_and_prunes_older_ones()
    {
        using var dir = new TempDirectory();
        var source = EmbeddedFashionMnist.Write(dir.File("fmnist"), 600);
        // A layer of a publish from before versions had folders, still served for the version it belongs to.
        var flat = Path.Combine(Directory.CreateDirectory(Path.Combine(source, LayeredManifestBuilder.LayerDirectoryName)).FullName, "fmnist-L00000.dql");
        File.WriteAllBytes(flat, [1, 2, 3]);
        var v1 = LayeredManifestBuilder.Build("lab", "fmnist", 1, source, 1024, 8 * 1024, cutAtHeldBytes: [30_000L]);
        LayeredManifestBuilder.RemoveOlderLayers(source, 1);
        Assert.True(File.Exists(flat), "the version before the first with a folder stays while devices move over");
        var v2 = LayeredManifestBuilder.Build("lab", "fmnist", 2, source, 1024, 8 * 1024, cutAtHeldBytes: [45_000L]);
        LayeredManifestBuilder.RemoveOlderLayers(source, 2);
        Assert.False(File.Exists(flat));

        // Other cuts, other layers: yet every file version 1 signed is still there, byte for byte.
        Assert.NotEqual(v1.Shards.Select(s => s.Sha256), v2.Shards.Select(s => s.Sha256));
        foreach (var layer in v1.Shards)
        {
            var path = Path.Combine(LayeredManifestBuilder.LayerDirectory(source, 1), layer.Name);
            Assert.Equal(layer.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }

        LayeredManifestBuilder.Build("lab", "fmnist", 3, source, 1024, 8 * 1024);
        LayeredManifestBuilder.RemoveOlderLayers(source, 3);

        Assert.False(Directory.Exists(LayeredManifestBuilder.LayerDirectory(source, 1)));
        Assert.True(Directory.Exists(LayeredManifestBuilder.LayerDirectory(source, 2)), "the version before stays while devices move over");
        Assert.True(Directory.Exists(LayeredManifestBuilder.LayerDirectory(source, 3)));
    }

    [Fact]
    public void A_version_built_aside_by_a_publisher_that_loses_it_leaves_the_winners_files_as_signed()
    {
        using var dir = new TempDirectory();
        var source = EmbeddedFashionMnist.Write(dir.File("fmnist"), 600);
        var winnerStaging = LayeredManifestBuilder.StagingDirectory(source, 7);
        var winner = LayeredManifestBuilder.Build("lab", "fmnist", 7, source, 1024, 8 * 1024, cutAtHeldBytes: [30_000L], layerDirectory: winnerStaging);
        LayeredManifestBuilder.PlaceLayers(winnerStaging, source, 7);

        // A second publisher read the same highest version and builds version 7 under other budgets; it loses the claim.
        var loserStaging = LayeredManifestBuilder.StagingDirectory(source, 7);
        var loser = LayeredManifestBuilder.Build("lab", "fmnist", 7, source, 1024, 8 * 1024, cutAtHeldBytes: [45_000L], layerDirectory: loserStaging);
        Assert.NotEqual(winner.Shards.Select(s => s.Sha256), loser.Shards.Select(s => s.Sha256));
        foreach (var file in winner.Shards)
        {
            var path = Path.Combine(LayeredManifestBuilder.LayerDirectory(source, 7), file.Name);
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))));
        }

        // Whatever a lost publish leaves aside goes with the next pruning; the version's folder stays.
        LayeredManifestBuilder.RemoveOlderLayers(source, 7);
        Assert.False(Directory.Exists(loserStaging));
        Assert.Equal(winner.Shards.Count, Directory.GetFiles(LayeredManifestBuilder.LayerDirectory(source, 7)).Length);
    }
}
