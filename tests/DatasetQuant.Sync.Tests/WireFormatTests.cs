using System.Text;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests;

public sealed class WireFormatTests
{
    [Fact]
    public void Crc32C_matches_the_Castagnoli_check_value()
    {
        Assert.Equal(0xE3069283u, Crc32C.Compute("123456789"u8));
        Assert.Equal(Crc32C.Compute("123456789"u8), Crc32C.Append(Crc32C.Compute("1234"u8), "56789"u8));
    }

    [Fact]
    public void A_chunk_frame_round_trips_and_has_the_documented_layout()
    {
        var payload = Enumerable.Range(0, 1000).Select(i => (byte)i).ToArray();
        var frame = ChunkFrameWriter.Create("fmnist", 7, 3, 131072, payload, isRepair: true);

        Assert.Equal(40 + 6 + 1000, frame.Length);
        Assert.Equal("DQCK"u8.ToArray(), frame[..4]);
        Assert.Equal([1, 1, 6, 0], frame[4..8]);
        Assert.Equal("fmnist"u8.ToArray(), frame[40..46]);
        Assert.True(ChunkFrameReader.TryRead(frame, out var header, out var body, out var error), error);
        Assert.Equal(new ChunkFrameHeader("fmnist", 7, 3, 131072, 1000, Crc32C.Compute(payload), true), header);
        Assert.Equal(payload, body.ToArray());
    }

    [Fact]
    public void Every_single_bit_flip_in_a_frame_is_detected()
    {
        var frame = ChunkFrameWriter.Create("ds", 1, 0, 0, new byte[64], isRepair: false);
        for (var bit = 0; bit < frame.Length * 8; bit++)
        {
            var damaged = frame.ToArray();
            damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.False(ChunkFrameReader.TryRead(damaged, out _, out _, out _), $"bit {bit} flipped went unnoticed");
        }
    }

    [Fact]
    public void A_frame_larger_than_128_KiB_cannot_be_written()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkFrameWriter.Create("ds", 1, 0, 0, new byte[(128 * 1024) + 1], false));
    }

    [Fact]
    public void Bitmaps_use_LSB_first_base64_without_trailing_zero_bytes()
    {
        var bitmap = new ChunkBitmap(20);
        bitmap.Set(0);
        bitmap.Set(9);
        Assert.Equal(Convert.ToBase64String([0x01, 0x02]), bitmap.ToWire());
        Assert.Equal("", new ChunkBitmap(20).ToWire());
        Assert.True(ChunkBitmap.TryFromWire(bitmap.ToWire(), 20, out var parsed, out _));
        Assert.Equal(2, parsed.SetCount);
        Assert.True(parsed[0] && parsed[9] && !parsed[1]);
        Assert.Equal(18, parsed.Invert().SetCount);

        Assert.False(ChunkBitmap.TryFromWire(Convert.ToBase64String([0, 0, 0x10]), 20, out _, out var error)); // bit 20
        Assert.Contains("chunk 20", error);
        Assert.False(ChunkBitmap.TryFromWire(Convert.ToBase64String(new byte[4]), 20, out _, out _));
        Assert.False(ChunkBitmap.TryFromWire("%%%", 20, out _, out _));
    }

    [Fact]
    public void The_canonical_form_is_the_documented_text()
    {
        var manifest = new DatasetManifest
        {
            Fleet = "lab",
            Dataset = "fmnist",
            Version = 12,
            ChunkSize = 131072,
            CreatedUnixSeconds = 1795291200,
            Shards = [new ManifestShard { Id = 0, Name = "a.dqs", Size = 10, Sha256 = new string('a', 64), BitBudget = 80, BitsPerPixel = 2.5005, SampleCount = 1 }],
        };

        Assert.Equal(
            "dq-manifest/1\nfleet:lab\ndataset:fmnist\nversion:12\nchunk-size:131072\ncreated:1795291200\nshards:1\n" +
            $"shard:0:a.dqs:10:{new string('a', 64)}:80:2501:1\n",
            Encoding.ASCII.GetString(ManifestCanonicalForm.GetBytes(manifest)));
    }

    [Fact]
    public void A_signed_manifest_survives_JSON_and_any_change_breaks_the_signature()
    {
        using var key = SigningKeyPem.Generate();
        using var signer = new ManifestSigner(key);
        using var verifier = new ManifestVerifier(System.Security.Cryptography.ECDsa.Create(key.ExportParameters(false)));
        var manifest = new DatasetManifest
        {
            Fleet = "lab",
            Dataset = "fmnist",
            Version = 1,
            Shards = [new ManifestShard { Id = 0, Name = "a.dqs", Size = 10, Sha256 = new string('0', 64), BitsPerPixel = 3.125, SampleCount = 4 }],
        };

        var json = SyncMessageCodec.Serialize(signer.Sign(manifest));
        Assert.True(SyncMessageCodec.TryReadManifest(json, out var parsed, out var error), error);
        Assert.True(verifier.TryVerify(parsed, out error), error);

        var text = Encoding.UTF8.GetString(json);
        foreach (var (from, to) in new[] { ("\"version\":1", "\"version\":2"), ("\"sampleCount\":4", "\"sampleCount\":5"), ("3.125", "3.126"), ("\"a.dqs\"", "\"b.dqs\"") })
        {
            Assert.Contains(from, text);
            Assert.True(SyncMessageCodec.TryReadManifest(Encoding.UTF8.GetBytes(text.Replace(from, to)), out var changed, out error), error);
            Assert.False(verifier.TryVerify(changed, out _), $"changing {from} to {to} kept the signature valid");
        }
    }

    [Fact]
    public void Topics_parse_back_to_what_they_are()
    {
        var topics = new SyncTopics("lab");
        Assert.Equal(new SyncTopic(SyncTopicKind.DevicePull, "pi-1"), topics.Parse(topics.DevicePull("pi-1")));
        Assert.Equal(new SyncTopic(SyncTopicKind.BudgetDesired, "pi-1"), topics.Parse("dq/v1/lab/devices/pi-1/budget/desired"));
        Assert.Equal(new SyncTopic(SyncTopicKind.DatasetChunks, "fmnist"), topics.Parse(topics.DatasetChunks("fmnist")));
        Assert.Equal(SyncTopicKind.Unknown, topics.Parse("dq/v1/other/devices/pi-1/pull").Kind);
        Assert.Equal(SyncTopicKind.Unknown, topics.Parse("dq/v1/lab/devices/../pull").Kind);
        Assert.Equal(SyncTopicKind.Unknown, topics.Parse("dq/v1/lab/devices/pi-1/pull/extra").Kind);
        Assert.Throws<ArgumentException>(() => new SyncTopics("a/b"));
        Assert.Throws<ArgumentException>(() => new SyncTopics("+"));
    }
}
