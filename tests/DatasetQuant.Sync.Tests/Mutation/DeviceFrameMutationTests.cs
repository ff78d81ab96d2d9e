using DatasetQuant.Sync.Chunks;
using DatasetQuant.Sync.Messages;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Chunk frames mutated (<see cref="FrameMutator"/>, most with their CRCs made right again) sent on both chunk topics
/// to a device that holds two datasets and is fetching a third: each must be refused with a warning naming the
/// field, ignored (another version, a held shard) or stored, exactly as docs/protocol.md §4 and §8 say; the datasets
/// held stay byte for byte, the one being fetched has only its own files at their declared sizes, and whatever it
/// completes is its manifest's bytes.
/// </summary>
public sealed class DeviceFrameMutationTests(HeldDatasetsFixture fixture, ITestOutputHelper output) : IClassFixture<HeldDatasetsFixture>
{
    private const int Mutants = 400;

    private const string Fetching = "fetching";

    [Fact]
    public async Task Every_mutant_frame_is_refused_naming_its_field_ignored_or_stored_and_nothing_held_changes()
    {
        var (device, harness) = await fixture.StartDeviceAsync("dev-frames");
        var served = new ServedVictims(fixture.Bed);
        var fetching = WireSamples.Sign(served.Template(Fetching, 1), fixture.Key);
        await harness.SendAsync(fixture.Bed.Topics.DatasetManifest(Fetching), SyncMessageCodec.Serialize(fetching));
        var held = harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay);
        var seeds = Seeds(served, fetching.Manifest).ToList();
        var manifests = new[] { fixture.KeepDataset.Manifest, fixture.LayDataset.Manifest, fetching.Manifest }.ToDictionary(m => m.Dataset, StringComparer.Ordinal);
        var failures = new List<string>();
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < Mutants && failures.Count < 10; i++)
        {
            var random = new Random(9_000 + i);
            var (mutant, description) = random.Next(10) == 0 ? (seeds[random.Next(seeds.Count)], "unchanged") : new FrameMutator(random).Mutate(seeds[random.Next(seeds.Count)]);
            var topic = random.Next(10) switch
            {
                0 => fixture.Bed.Topics.DeviceChunks("someone-else"),
                < 4 => fixture.Bed.Topics.DeviceChunks(device.Id),
                _ => fixture.Bed.Topics.DatasetChunks(ChunkFrameReader.TryRead(mutant, out var h, out _, out _) ? h.Dataset : Fetching),
            };
            var expected = Expect(mutant, topic, manifests);
            counts[expected] = counts.GetValueOrDefault(expected) + 1;
            var lines = await harness.SendAsync(topic, mutant);
            var warnings = lines.Where(l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains(topic, StringComparison.Ordinal)).ToList();
            var verdict = expected switch
            {
                "refused" when warnings.Count != 1 => $"{warnings.Count} warnings naming the topic for one refusal",
                "refused" when !CodecProbe.NamesField(warnings[0]) => "the warning does not name the field",
                "refused" => null,
                "other device's" when warnings.Count != 1 || !warnings[0].Contains("unexpected topic", StringComparison.Ordinal) => "not refused as a topic this device does not read",
                "other device's" => null,
                _ when warnings.Count > 0 => "a warning for a frame that is no fault",
                _ => null,
            };
            verdict ??= harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay) == held ? null : "the held datasets changed";
            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}) on {topic}, expected {expected}: {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
        }

        output.WriteLine(string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}")));
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(counts.GetValueOrDefault("refused") > Mutants / 3 && counts.GetValueOrDefault("fits") > 10, "the mutants reach both outcomes");
        MutationChecks.OnlyManifestFiles(harness, device, fetching.Manifest);
        Assert.Null(ServedVictims.HeldFilesMatchTheirManifests(harness, device));
        await MutationChecks.StillWorksAsync(fixture, device);
        await device.StopAsync();
    }

    /// <summary>Right frames: every chunk of the dataset being fetched, and chunks of the two held ones.</summary>
    private IEnumerable<byte[]> Seeds(ServedVictims served, DatasetManifest fetching)
    {
        foreach (var shard in fetching.Shards)
        {
            var bytes = served.Bytes(shard);
            for (var offset = 0; offset < bytes.Length; offset += fetching.ChunkSize)
            {
                yield return ChunkFrameWriter.Create(Fetching, 1, shard.Id, offset, bytes.AsSpan(offset, Math.Min(fetching.ChunkSize, bytes.Length - offset)), isRepair: offset % 2 == 0);
            }
        }

        var keep = fixture.KeepDataset;
        var first = File.ReadAllBytes(keep.ShardPath(keep.Manifest.Shards[0]));
        yield return ChunkFrameWriter.Create(HeldDatasetsFixture.Keep, 1, 0, 0, first.AsSpan(0, keep.Manifest.ChunkSize), isRepair: false);
        var lay = fixture.LayDataset;
        var layer = File.ReadAllBytes(lay.ShardPath(lay.Manifest.Shards[0]));
        yield return ChunkFrameWriter.Create(HeldDatasetsFixture.Lay, 1, 0, 0, layer.AsSpan(0, Math.Min(layer.Length, lay.Manifest.ChunkSize)), isRepair: true);
    }

    /// <summary>What docs/protocol.md §4 and §8 say the device does with the frame.</summary>
    private static string Expect(byte[] frame, string topic, Dictionary<string, DatasetManifest> manifests)
    {
        if (topic.Contains("/someone-else/", StringComparison.Ordinal))
        {
            // Another device's repairs are no topic of this one (a broker that delivers them is misconfigured).
            return "other device's";
        }

        if (!ChunkFrameReader.TryRead(frame, out var header, out _, out _))
        {
            return "refused";
        }

        if (!manifests.TryGetValue(header.Dataset, out var manifest) || manifest.Version != header.ManifestVersion)
        {
            return "other version";
        }

        var shard = manifest.FindShard(header.ShardId);
        return shard is not null && header.Offset % manifest.ChunkSize == 0 && header.Offset < shard.Size && header.Length == Math.Min(manifest.ChunkSize, shard.Size - header.Offset)
            ? "fits"
            : "refused";
    }
}
