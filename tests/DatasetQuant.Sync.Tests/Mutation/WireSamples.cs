using System.Security.Cryptography;
using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// One valid encoded message of every kind a peer sends (docs/protocol.md §3–4), the seeds the mutation tests start
/// from: manifests of every format (layers, prefixes, a generator), budgets, state reports, pulls and chunk frames.
/// </summary>
internal static class WireSamples
{
    public const string Fleet = "lab";

    private static readonly string Sha = new('a', 64);

    /// <summary>The manifests, one per shape a coordinator publishes (format 1 shards and generator, 2, 3, 4 with and without prefixes).</summary>
    public static IReadOnlyList<(string Name, DatasetManifest Manifest)> Manifests(string dataset = "fmnist", long version = 3) =>
    [
        ("format-1-shards", Shards(dataset, version)),
        ("format-1-generator", Generator(dataset, version)),
        ("format-2-layers", Layered(dataset, version, DatasetManifest.LayersFormat, prefixes: 0)),
        ("format-3-prefix", Layered(dataset, version, DatasetManifest.PrefixesFormat, prefixes: 1)),
        ("format-6-prefixes", Layered(dataset, version, DatasetManifest.GapHeldFormat, prefixes: 2)),
        ("format-4-prefixes", Layered(dataset, version, DatasetManifest.CompactHeldFormat, prefixes: 2)),
        ("format-4-no-prefix", Layered(dataset, version, DatasetManifest.CompactHeldFormat, prefixes: 0)),
    ];

    public static DatasetManifest Shards(string dataset, long version) => new()
    {
        Fleet = Fleet, Dataset = dataset, Version = version, ChunkSize = 1024, CreatedUnixSeconds = 1795291200,
        Shards =
        [
            Entry(0, "part-000.dqs", 5000, 40_000, 8.0, 6),
            Entry(1, "part-001.dqs", 1024, 8192, 7.125, 1),
            Entry(2, "part-002.dqs", 1, 8, 0.001, 0),
        ],
    };

    public static DatasetManifest Generator(string dataset, long version) => new()
    {
        Fleet = Fleet, Dataset = dataset, Kind = DatasetManifest.GeneratorKind, Version = version, ChunkSize = 2048, CreatedUnixSeconds = 1795291200,
        Shards = [Entry(0, "G.onnx", 9000, 0, 0, 0), Entry(1, "G.json", 300, 0, 0, 0)],
    };

    /// <summary>Three layers, then <paramref name="prefixes"/> prefixes (of one layer, then of two).</summary>
    public static DatasetManifest Layered(string dataset, long version, int format, int prefixes)
    {
        (int Increments, long HeldAfter, long Size)[] layers = [(30, 17_000, 16_500), (4, 18_000, 1_100), (5, 19_500, 1_600)];
        var shards = new List<ManifestShard>();
        var first = 0;
        for (var i = 0; i < layers.Length; i++)
        {
            var (increments, held, size) = layers[i];
            shards.Add(new ManifestShard
            {
                Id = i, Name = $"{dataset}-L{i:D5}.dql", Size = size, Sha256 = Sha, BitBudget = 1000 * (i + 1), BitsPerPixel = 0.25 * (i + 1), SampleCount = 10 * (i + 1),
                Layer = new ManifestLayer { FirstIncrement = first, IncrementCount = increments, HeldBytesAfter = held, ChunkCount = (int)((size + 1023) / 1024) },
            });
            first += increments;
        }

        for (var k = 1; k <= prefixes; k++)
        {
            var last = shards[k - 1];
            foreach (var (part, size) in new[] { (ManifestPrefix.ShardPart, last.Layer!.HeldBytesAfter - 300), (ManifestPrefix.HeldPart, 300L) })
            {
                shards.Add(new ManifestShard
                {
                    Id = shards.Count, Name = $"{dataset}-P{k:D5}.{(part == ManifestPrefix.ShardPart ? "dqs" : "dqh")}", Size = size, Sha256 = Sha,
                    BitBudget = last.BitBudget, BitsPerPixel = last.BitsPerPixel, SampleCount = last.SampleCount, Prefix = new ManifestPrefix { Layers = k, Part = part },
                });
            }
        }

        return new DatasetManifest
        {
            Format = format, Fleet = Fleet, Dataset = dataset, Version = version, ChunkSize = 1024, CreatedUnixSeconds = 1795291200, Shards = shards,
        };
    }

    public static byte[] Signed(DatasetManifest manifest, ECDsa key) => SyncMessageCodec.Serialize(Sign(manifest, key));

    /// <summary>
    /// Signs the manifest as it is, valid or not (<see cref="ManifestSigner"/> refuses invalid ones): a mutant signed by
    /// the pinned key gets past the signature check and exercises what the receiver checks after it.
    /// </summary>
    public static SignedManifestMessage Sign(DatasetManifest manifest, ECDsa key) => new()
    {
        Manifest = manifest,
        KeyId = SigningKeyPem.KeyId(key),
        Signature = Convert.ToBase64String(
            key.SignData(ManifestCanonicalForm.GetBytes(manifest), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)),
    };

    public static byte[] BudgetDesired(string device = "pi-07", long version = 3, long bytes = 4_000_000) =>
        SyncMessageCodec.Serialize(new BudgetDesiredMessage { Device = device, Version = version, Bytes = bytes, IssuedUtc = DateTimeOffset.UnixEpoch.AddYears(56) });

    public static byte[] BudgetReported() => SyncMessageCodec.Serialize(new BudgetReportedMessage
    {
        Device = "pi-07", Version = 3, BudgetBytes = 4_000_000, HeldBytes = 3_518_234, Status = BudgetReportedMessage.Applying, UpdatedUtc = DateTimeOffset.UnixEpoch,
    });

    public static byte[] DeviceState() => SyncMessageCodec.Serialize(new DeviceStateMessage
    {
        Device = "pi-07", FreeFlashBytes = 5_368_709_120, HeldBytes = 3_518_234, BudgetBytes = 4_000_000, BudgetVersion = 3,
        Datasets =
        [
            new HeldDatasetState
            {
                Name = "fmnist", ManifestVersion = 2, Complete = true, ReceivedBytes = 4_000_000,
                Shards = [new HeldShardState { Id = 0, Bytes = 1_759_117, Precision = "requantized" }, new HeldShardState { Id = 1, Bytes = 1_759_117 }],
            },
            new HeldDatasetState
            {
                Name = "layered", ManifestVersion = 7, Layers = 2, ReceivedBytes = 20_000,
                Shards = [new HeldShardState { Id = 0, Precision = Device.HeldShard.Applied }, new HeldShardState { Id = 1, Bytes = 18_000, Precision = Device.HeldShard.Applied }],
            },
        ],
        Metrics = new Dictionary<string, double> { ["accuracy"] = 0.871 },
        UpdatedUtc = DateTimeOffset.UnixEpoch,
    });

    public static byte[] PullRequest(string device = "pi-07", string dataset = "fmnist", long version = 3) => SyncMessageCodec.Serialize(new PullRequestMessage
    {
        Device = device, Dataset = dataset, ManifestVersion = version,
        Shards = [new PullShard { Id = 0, Missing = "/wE=" }, new PullShard { Id = 1, Missing = "AQ==" }],
    });

    /// <summary>Chunk frames: broadcast and repair, a short last chunk, an empty and a full payload, the longest name.</summary>
    public static IReadOnlyList<(string Name, byte[] Frame)> Frames()
    {
        var random = new Random(7);
        byte[] Bytes(int n)
        {
            var bytes = new byte[n];
            random.NextBytes(bytes);
            return bytes;
        }

        return
        [
            ("broadcast", ChunkFrameWriter.Create("fmnist", 3, 0, 0, Bytes(1024), isRepair: false)),
            ("repair-last-chunk", ChunkFrameWriter.Create("fmnist", 3, 0, 4096, Bytes(904), isRepair: true)),
            ("empty-payload", ChunkFrameWriter.Create("fmnist", 3, 1, 0, [], isRepair: false)),
            ("max-payload", ChunkFrameWriter.Create("fmnist", 3, 2, 131072, Bytes(ChunkFrameConstants.MaxPayload), isRepair: true)),
            ("longest-name", ChunkFrameWriter.Create(new string('n', 64), long.MaxValue, int.MaxValue, 0, Bytes(10), isRepair: false)),
        ];
    }

    private static ManifestShard Entry(int id, string name, long size, long bitBudget, double bitsPerPixel, long samples) => new()
    {
        Id = id, Name = name, Size = size, Sha256 = Sha, BitBudget = bitBudget, BitsPerPixel = bitsPerPixel, SampleCount = samples,
    };
}
