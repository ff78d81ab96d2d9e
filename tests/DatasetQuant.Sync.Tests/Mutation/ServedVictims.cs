using System.Security.Cryptography;
using System.Text.Json.Nodes;
using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Whole-shard victims whose bytes the test bed's coordinator really serves: the template lists real files (their true
/// SHA-256), and every mutant a device takes is published to the catalog with a file per entry (the real one where an
/// entry keeps a real file's hash and size, random bytes of the stated size elsewhere), so the device pulls, assembles
/// and commits what the mutant says. What it then holds must be what the manifest says, byte for byte.
/// </summary>
internal sealed class ServedVictims
{
    private const long MaxServedSize = 64 << 10;

    private readonly SyncTestBed _bed;
    private readonly string _source;
    private readonly Dictionary<string, string> _bySha = new(StringComparer.Ordinal);

    public ServedVictims(SyncTestBed bed)
    {
        _bed = bed;
        _source = bed.CreateShards("victim-source", 5000, 1024, 1, 2050);
        foreach (var file in Directory.GetFiles(_source))
        {
            _bySha[Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)))] = file;
        }
    }

    /// <summary>The real files as a format 1 manifest of <paramref name="dataset"/> at <paramref name="version"/>.</summary>
    public DatasetManifest Template(string dataset, long version) => new()
    {
        Fleet = SyncTestBed.Fleet, Dataset = dataset, Version = version, ChunkSize = 1024, CreatedUnixSeconds = 1795291200,
        Shards = [.. _bySha.OrderBy(f => f.Value, StringComparer.Ordinal).Select((f, i) => new ManifestShard
        {
            Id = i, Name = Path.GetFileName(f.Value), Size = new FileInfo(f.Value).Length, Sha256 = f.Key, BitBudget = 8, BitsPerPixel = 1, SampleCount = 1,
        })],
    };

    /// <summary>The bytes of the real file an entry of the template names.</summary>
    public byte[] Bytes(ManifestShard shard) => File.ReadAllBytes(_bySha[shard.Sha256]);

    /// <summary>Serves a manifest the device took, when it lists whole shards small enough to write; false when it is not served.</summary>
    public bool Serve(SignedManifestMessage signed)
    {
        var manifest = signed.Manifest;
        if (manifest.IsLayered || manifest.Shards.Any(s => s.Size > MaxServedSize))
        {
            return false;
        }

        var directory = Directory.CreateDirectory(_bed.Root.File($"served/{manifest.Dataset}-v{manifest.Version}")).FullName;
        foreach (var shard in manifest.Shards)
        {
            var bytes = _bySha.TryGetValue(shard.Sha256, out var real) && new FileInfo(real).Length == shard.Size
                ? File.ReadAllBytes(real)
                : RandomNumberGenerator.GetBytes((int)shard.Size);
            File.WriteAllBytes(Path.Combine(directory, shard.Name), bytes);
        }

        _bed.Catalog.Add(new PublishedDataset(signed, directory));
        return true;
    }

    /// <summary>
    /// Every file the device's state records as held in full is its manifest's, byte for byte: no answer that looks
    /// right and is not. Null when so, else which file is not.
    /// </summary>
    public static string? HeldFilesMatchTheirManifests(MutationHarness harness, TestDevice device)
    {
        var datasets = JsonNode.Parse(harness.State())!["datasets"]!.AsObject();
        foreach (var (name, holdings) in datasets)
        {
            var manifest = holdings!["signed"]!["manifest"]!;
            foreach (var held in holdings["shards"]!.AsArray())
            {
                var entry = manifest["shards"]!.AsArray().FirstOrDefault(s => s!["id"]!.GetValue<int>() == held!["id"]!.GetValue<int>());
                if (held!["precision"]!.GetValue<string>() != "full" || entry is null)
                {
                    continue;
                }

                var path = Path.Combine(device.DatasetDirectory(name), entry["name"]!.GetValue<string>());
                var sha = File.Exists(path) ? Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(path))) : "(missing)";
                if (sha != entry["sha256"]!.GetValue<string>())
                {
                    return $"{name}/{entry["name"]} is held in full, but its bytes hash to {sha}, not the manifest's {entry["sha256"]}";
                }
            }
        }

        return null;
    }
}
