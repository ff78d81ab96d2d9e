using System.Text;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests;

/// <summary>The format 2 manifest as docs/protocol.md §3 and §5 describe it, and the rules a reader checks.</summary>
public sealed class LayeredManifestTests
{
    internal static DatasetManifest Layered(params (int Increments, long HeldAfter, long Size)[] layers)
    {
        var first = 0;
        var shards = new List<ManifestShard>();
        for (var i = 0; i < layers.Length; i++)
        {
            shards.Add(new ManifestShard
            {
                Id = i, Name = $"fmnist-L{i:D5}.dql", Size = layers[i].Size, Sha256 = new string((char)('a' + i), 64), BitBudget = 1000 * (i + 1),
                BitsPerPixel = 0.25 * (i + 1), SampleCount = 10 * (i + 1),
                Layer = new ManifestLayer { FirstIncrement = first, IncrementCount = layers[i].Increments, HeldBytesAfter = layers[i].HeldAfter, ChunkCount = (int)((layers[i].Size + 1023) / 1024) },
            });
            first += layers[i].Increments;
        }

        return new DatasetManifest { Format = DatasetManifest.LayersFormat, Fleet = "lab", Dataset = "fmnist", Version = 4, ChunkSize = 1024, CreatedUnixSeconds = 1795291200, Shards = shards };
    }

    [Fact]
    public void The_canonical_form_of_a_layered_manifest_is_version_2_with_each_layers_place()
    {
        var text = Encoding.ASCII.GetString(ManifestCanonicalForm.GetBytes(Layered((30, 17_000, 16_500), (4, 18_000, 1_100))));

        Assert.Equal(
            "dq-manifest/2\nfleet:lab\ndataset:fmnist\nversion:4\nchunk-size:1024\ncreated:1795291200\nshards:2\n" +
            $"shard:0:fmnist-L00000.dql:16500:{new string('a', 64)}:1000:250:10:0:30:17000:17\n" +
            $"shard:1:fmnist-L00001.dql:1100:{new string('b', 64)}:2000:500:20:30:4:18000:2\n",
            text);
    }

    [Fact]
    public void A_layered_manifest_round_trips_through_JSON_and_still_verifies()
    {
        using var key = SigningKeyPem.Generate();
        using var signer = new ManifestSigner(key);
        using var verifier = new ManifestVerifier(System.Security.Cryptography.ECDsa.Create(key.ExportParameters(false)));
        var signed = signer.Sign(Layered((30, 17_000, 16_500), (4, 18_000, 1_100)));

        Assert.True(SyncMessageCodec.TryReadManifest(SyncMessageCodec.Serialize(signed), out var read, out var error), error);
        Assert.True(read.Manifest.IsLayered);
        Assert.Equal(18_000, read.Manifest.FullHeldBytes);
        Assert.True(verifier.TryVerify(read, out error), error);
        Assert.Equal(1, ManifestLayer.LayersWithin(read.Manifest, 17_999));
        Assert.Equal(0, ManifestLayer.LayersWithin(read.Manifest, 16_999));
    }

    [Theory]
    [InlineData("increments", "field 'firstIncrement'")]
    [InlineData("held", "field 'heldBytesAfter'")]
    [InlineData("chunks", "field 'chunkCount'")]
    [InlineData("missing", "field 'layer' is missing")]
    [InlineData("in-format-1", "field 'layer' or 'prefix' appears in a format 1 manifest")]
    [InlineData("format-7", "manifest format 7 is not supported (this device reads formats 1 to 6)")]
    public void A_layered_manifest_that_breaks_a_rule_is_refused_naming_the_field(string defect, string expected)
    {
        var manifest = Layered((30, 17_000, 16_500), (4, 18_000, 1_100));
        var second = manifest.Shards[1];
        ManifestLayer Changed(int first = 30, long held = 18_000, int chunks = 2) =>
            new() { FirstIncrement = first, IncrementCount = 4, HeldBytesAfter = held, ChunkCount = chunks };
        ManifestShard With(ManifestLayer? layer) => new()
        {
            Id = 1, Name = second.Name, Size = second.Size, Sha256 = second.Sha256, BitBudget = second.BitBudget, BitsPerPixel = second.BitsPerPixel,
            SampleCount = second.SampleCount, Layer = layer,
        };
        var broken = defect switch
        {
            "increments" => Replace(manifest, With(Changed(first: 31))),
            "held" => Replace(manifest, With(Changed(held: 17_000))),
            "chunks" => Replace(manifest, With(Changed(chunks: 3))),
            "missing" => Replace(manifest, With(null)),
            "in-format-1" => new DatasetManifest { Fleet = "lab", Dataset = "fmnist", Version = 4, ChunkSize = 1024, Shards = manifest.Shards },
            _ => new DatasetManifest { Format = 7, Fleet = "lab", Dataset = "fmnist", Version = 4, ChunkSize = 1024, Shards = manifest.Shards },
        };

        Assert.Contains(expected, broken.Validate(), StringComparison.Ordinal);
    }

    private static DatasetManifest Replace(DatasetManifest manifest, ManifestShard second) => new()
    {
        Format = manifest.Format, Fleet = manifest.Fleet, Dataset = manifest.Dataset, Version = manifest.Version, ChunkSize = manifest.ChunkSize,
        CreatedUnixSeconds = manifest.CreatedUnixSeconds, Shards = [manifest.Shards[0], second],
    };
}
