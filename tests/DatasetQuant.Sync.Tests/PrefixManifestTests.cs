using System.Text;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests;

/// <summary>The format 3 and 4 manifests (layers, then prefixes served whole) as docs/protocol.md §3 and §5 describe them.</summary>
public sealed class PrefixManifestTests
{
    /// <summary>Three layers and the prefix of the first two (a shard of 17,600 bytes and held increments of 400).</summary>
    private static DatasetManifest WithPrefix(int layers = 2, long shardSize = 17_600, long heldSize = 400, string shardPart = ManifestPrefix.ShardPart, int? heldId = null)
    {
        var layered = LayeredManifestTests.Layered((30, 17_000, 16_500), (4, 18_000, 1_100), (5, 19_500, 1_600));
        var last = layered.Shards[layers - 1];
        ManifestShard Part(int id, string name, long size, string part) => new()
        {
            Id = id, Name = name, Size = size, Sha256 = new string('f', 64), BitBudget = last.BitBudget, BitsPerPixel = last.BitsPerPixel,
            SampleCount = last.SampleCount, Prefix = new ManifestPrefix { Layers = layers, Part = part },
        };
        return new DatasetManifest
        {
            Format = DatasetManifest.PrefixesFormat, Fleet = "lab", Dataset = "fmnist", Version = 4, ChunkSize = 1024, CreatedUnixSeconds = 1795291200,
            Shards = [.. layered.Shards, Part(3, "fmnist-P00002.dqs", shardSize, shardPart), Part(heldId ?? 4, "fmnist-P00002.dqh", heldSize, ManifestPrefix.HeldPart)],
        };
    }

    [Fact]
    public void The_canonical_form_is_version_3_with_each_prefixs_layers_and_part()
    {
        var text = Encoding.ASCII.GetString(ManifestCanonicalForm.GetBytes(WithPrefix()));

        Assert.StartsWith("dq-manifest/3\nfleet:lab\n", text, StringComparison.Ordinal);
        Assert.Contains($"shard:2:fmnist-L00002.dql:1600:{new string('c', 64)}:3000:750:30:34:5:19500:2\n", text, StringComparison.Ordinal);
        Assert.EndsWith(
            $"shard:3:fmnist-P00002.dqs:17600:{new string('f', 64)}:2000:500:20:prefix:2:shard\n" +
            $"shard:4:fmnist-P00002.dqh:400:{new string('f', 64)}:2000:500:20:prefix:2:held\n",
            text,
            StringComparison.Ordinal);
    }

    [Fact]
    public void A_prefix_manifest_round_trips_through_JSON_verifies_and_lists_its_layers_apart()
    {
        using var key = SigningKeyPem.Generate();
        using var signer = new ManifestSigner(key);
        using var verifier = new ManifestVerifier(System.Security.Cryptography.ECDsa.Create(key.ExportParameters(false)));
        var signed = signer.Sign(WithPrefix());

        Assert.True(SyncMessageCodec.TryReadManifest(SyncMessageCodec.Serialize(signed), out var read, out var error), error);
        Assert.True(verifier.TryVerify(read, out error), error);
        Assert.Equal(3, read.Manifest.LayerCount);
        Assert.Equal(19_500, read.Manifest.FullHeldBytes);
        Assert.Equal(3, ManifestLayer.LayersWithin(read.Manifest, long.MaxValue));
        var prefix = Assert.Single(ManifestPrefix.List(read.Manifest));
        Assert.Equal((2, 3, 4), (prefix.Layers, prefix.Shard.Id, prefix.Held.Id));

        // The prefix lines are signed: changing which layers a prefix stands for breaks the signature.
        var moved = new SignedManifestMessage
        {
            Manifest = WithPrefix(layers: 1, shardSize: 16_600), KeyId = signed.KeyId, Signature = signed.Signature,
        };
        Assert.False(verifier.TryVerify(moved, out _));
    }

    [Fact]
    public void Format_4_is_format_3_under_its_own_signed_header_counting_version_3_held_increments_and_may_list_no_prefix()
    {
        var three = WithPrefix();
        var four = Rebuilt(three, three.Shards, DatasetManifest.CompactHeldFormat);
        Assert.Null(four.Validate());
        Assert.Equal((2, 3), (three.HeldIncrementsVersion, four.HeldIncrementsVersion));
        var (text3, text4) = (Encoding.ASCII.GetString(ManifestCanonicalForm.GetBytes(three)), Encoding.ASCII.GetString(ManifestCanonicalForm.GetBytes(four)));
        Assert.StartsWith("dq-manifest/4\n", text4, StringComparison.Ordinal);
        Assert.Equal(text3["dq-manifest/3".Length..], text4["dq-manifest/4".Length..]);

        // Held sizes of one format are not the other's: a format 3 signature does not verify the same entries as format 4.
        using var key = SigningKeyPem.Generate();
        using var signer = new ManifestSigner(key);
        using var verifier = new ManifestVerifier(System.Security.Cryptography.ECDsa.Create(key.ExportParameters(false)));
        var signed = signer.Sign(three);
        Assert.True(verifier.TryVerify(signed, out _));
        Assert.False(verifier.TryVerify(new SignedManifestMessage { Manifest = four, KeyId = signed.KeyId, Signature = signed.Signature }, out _));

        var layersOnly = Rebuilt(four, four.Shards.Take(3));
        Assert.Null(layersOnly.Validate());
        Assert.Empty(ManifestPrefix.List(layersOnly));
        Assert.Contains("a format 4 manifest lists 0..64 prefixes", Rebuilt(four, four.Shards.Take(4)).Validate(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("sizes", "is 17600 + 500 bytes; layer 1 holds 18000")]
    [InlineData("layers", "field 'prefix.layers' is 4; expected 1..3")]
    [InlineData("order", "field 'prefix.part' must be 'shard' and then 'held'")]
    [InlineData("ids", "ids going on from them")]
    [InlineData("unpaired", "each a pair of a 'shard' and a 'held' entry")]
    [InlineData("none", "a format 3 manifest lists 1..64 prefixes")]
    [InlineData("in-format-2", "field 'layer' is missing in a format 2 manifest")]
    [InlineData("held-name", "the name of the copy a device holds")]
    [InlineData("held-name-case", "the name of the copy a device holds")]
    public void A_prefix_that_breaks_a_rule_is_refused_naming_the_field(string defect, string expected)
    {
        var good = WithPrefix();
        Assert.Null(good.Validate());
        var broken = defect switch
        {
            "sizes" => WithPrefix(heldSize: 500),
            "layers" => WithPrefix(layers: 3) is var m ? Rebuilt(m, m.Shards.Select(s => s.Prefix is null ? s : Copy(s, prefix: new ManifestPrefix { Layers = 4, Part = s.Prefix.Part }))) : null,
            "order" => WithPrefix(shardPart: ManifestPrefix.HeldPart),
            "ids" => WithPrefix(heldId: 7),
            "unpaired" => Rebuilt(good, good.Shards.Take(4)),
            "none" => Rebuilt(good, good.Shards.Take(3)),
            "in-format-2" => Rebuilt(good, good.Shards, DatasetManifest.LayersFormat),
            "held-name" => Rebuilt(good, good.Shards.Select(s => s.Id == 3 ? Copy(s, name: "fmnist.dqs") : s)),
            _ => Rebuilt(good, good.Shards.Select(s => s.Id == 4 ? Copy(s, name: "FMNIST.DQH") : s)),
        };

        Assert.Contains(expected, broken!.Validate(), StringComparison.Ordinal);
    }

    private static ManifestShard Copy(ManifestShard s, ManifestPrefix? prefix = null, string? name = null) => new()
    {
        Id = s.Id, Name = name ?? s.Name, Size = s.Size, Sha256 = s.Sha256, BitBudget = s.BitBudget, BitsPerPixel = s.BitsPerPixel, SampleCount = s.SampleCount,
        Layer = s.Layer, Prefix = prefix ?? s.Prefix,
    };

    private static DatasetManifest Rebuilt(DatasetManifest m, IEnumerable<ManifestShard> shards, int? format = null) => new()
    {
        Format = format ?? m.Format, Fleet = m.Fleet, Dataset = m.Dataset, Version = m.Version, ChunkSize = m.ChunkSize, CreatedUnixSeconds = m.CreatedUnixSeconds,
        Shards = [.. shards],
    };
}
