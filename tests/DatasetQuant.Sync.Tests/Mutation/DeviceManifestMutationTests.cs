using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Manifests mutated in meaning (<see cref="ManifestMutator"/>) and signed again with the coordinator's key, so they pass
/// the signature check, sent to a device that holds two datasets: the ones it holds, at their own or a lower version
/// (a device must refuse them), and a third, <c>victim</c>, at versions going up (it takes the valid ones). After each,
/// the device must still run, must have refused or taken it exactly as docs/protocol.md §8 says, with a warning naming
/// the message and field for a refusal, and must hold the two datasets byte for byte as before.
/// </summary>
public sealed class DeviceManifestMutationTests(HeldDatasetsFixture fixture, ITestOutputHelper output) : IClassFixture<HeldDatasetsFixture>
{
    private const int Mutants = 300;

    private const string Victim = "victim";

    [Fact]
    public async Task Every_signed_mutant_manifest_is_refused_naming_its_field_or_taken_and_the_held_datasets_stay_byte_identical()
    {
        var (device, harness) = await fixture.StartDeviceAsync("dev-manifests", o => o.PullQuietPeriod = TimeSpan.FromMilliseconds(20));
        await harness.SendAsync("dq/v1/lab/mutation/settle", []);
        var held = harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay);
        var versions = new Dictionary<string, SignedManifestMessage>(StringComparer.Ordinal)
        {
            [HeldDatasetsFixture.Keep] = fixture.KeepDataset.Signed,
            [HeldDatasetsFixture.Lay] = fixture.LayDataset.Signed,
        };
        var served = new ServedVictims(fixture.Bed);
        var failures = new List<string>();
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < Mutants && failures.Count < 10; i++)
        {
            var random = new Random(7_000 + i);
            var template = Template(random, versions, served);
            var (manifest, description) = new ManifestMutator(random).Mutate(template);
            var payload = WireSamples.Signed(manifest, fixture.Key);
            if (random.Next(8) == 0)
            {
                (payload, var more) = new JsonMutator(random).Mutate(payload);
                description += $"; then {more}";
            }

            var topicName = SyncNames.IsValid(manifest.Dataset) && random.Next(6) != 0 ? manifest.Dataset : template.Dataset;
            var expected = Expect(payload, topicName, versions, out var signed);
            if (expected == "taken" && topicName is HeldDatasetsFixture.Keep or HeldDatasetsFixture.Lay)
            {
                // A valid newer version of a held dataset replaces it, as it should: not a case for this test.
                counts["skipped"] = counts.GetValueOrDefault("skipped") + 1;
                continue;
            }

            counts[expected] = counts.GetValueOrDefault(expected) + 1;
            var taken = Taken(harness);
            var topic = fixture.Bed.Topics.DatasetManifest(topicName);
            var lines = await harness.SendAsync(topic, payload);
            var verdict = Judge(expected, lines, topic, signed);
            if (verdict is null && expected != "taken" && Taken(harness) != taken)
            {
                verdict = "the manifests held changed";
            }

            if (verdict is null && harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay) != held)
            {
                verdict = "the held datasets changed";
            }

            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}) on {topic}, expected {expected}: {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
            else if (expected == "taken")
            {
                versions[signed!.Manifest.Dataset] = signed;
                if (served.Serve(signed))
                {
                    counts["served"] = counts.GetValueOrDefault("served") + 1;
                    failures.Add(await FetchedAsync(device, signed.Manifest) is { } fault ? $"mutant {i} ({description}), served: {fault}" : "");
                    failures.RemoveAll(f => f.Length == 0);
                }
            }
        }

        // The last victim taken, when served, is fetched in full: what the device holds is then what its manifest says.
        var last = Victims(versions).Last().Manifest;
        if (fixture.Bed.Catalog.Find(last.Dataset)?.Manifest.Version == last.Version)
        {
            await SyncTestBed.WaitUntilAsync(() => device.Holds(last.Dataset, last.Version), $"the last victim, {last.Dataset} version {last.Version}", fixture.Bed.Log);
        }

        failures.Add(ServedVictims.HeldFilesMatchTheirManifests(harness, device) ?? "");
        failures.RemoveAll(f => f.Length == 0);

        output.WriteLine(string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}")));
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(counts.GetValueOrDefault("taken") > 10 && counts.GetValueOrDefault("refused") > 50, "the mutants reach both outcomes");
        await MutationChecks.StillWorksAsync(fixture, device);
        foreach (var victim in Victims(versions))
        {
            MutationChecks.OnlyManifestFiles(harness, device, victim.Manifest);
        }

        await device.StopAsync();
    }

    /// <summary>
    /// A held dataset's manifest (at its version), or one of every shape for the victim at its next version. A victim
    /// taken at a version near the top of the range takes no newer one, so the next victim is another dataset.
    /// </summary>
    private static DatasetManifest Template(Random random, Dictionary<string, SignedManifestMessage> versions, ServedVictims served)
    {
        var pick = random.Next(8);
        if (pick < 2)
        {
            return versions[pick == 0 ? HeldDatasetsFixture.Keep : HeldDatasetsFixture.Lay].Manifest;
        }

        var victim = Victims(versions).LastOrDefault();
        var (name, next) = victim is null ? (Victim + "-0", 1L)
            : victim.Manifest.Version < 1_000_000 ? (victim.Manifest.Dataset, victim.Manifest.Version + 1)
            : ($"{Victim}-{Victims(versions).Count()}", 1L);
        return pick == 2 ? served.Template(name, next) : WireSamples.Manifests(name, next)[pick - 2].Manifest;
    }

    /// <summary>
    /// Waits until the device holds a served victim, or says that a shard's bytes do not match its hash (the served
    /// stand-in bytes of an entry whose hash no real file has): null then, else what went wrong.
    /// </summary>
    private async Task<string?> FetchedAsync(TestDevice device, DatasetManifest manifest)
    {
        var log = fixture.Bed.Log;
        var refused = $"Rejected shard {manifest.Dataset}/";
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!device.Holds(manifest.Dataset, manifest.Version) && !log.Lines.Any(l => l.Contains(refused, StringComparison.Ordinal) && l.Contains($"of version {manifest.Version}:", StringComparison.Ordinal)))
        {
            if (DateTime.UtcNow > deadline || device.Run!.IsCompleted)
            {
                return $"neither held nor refused after 10 s{(device.Run!.IsCompleted ? ": the engine stopped, " + device.Run.Exception : "")}";
            }

            await Task.Delay(5);
        }

        return null;
    }

    /// <summary>The manifests the device's state file holds, as signed: what a refused mutant must not change.</summary>
    private static string Taken(MutationHarness harness) =>
        string.Join("\n", System.Text.Json.Nodes.JsonNode.Parse(harness.State())!["datasets"]!.AsObject().Select(d => $"{d.Key}: {d.Value!["signed"]!.ToJsonString()}"));

    /// <summary>The victims taken so far, in the order they were first taken.</summary>
    private static IEnumerable<SignedManifestMessage> Victims(Dictionary<string, SignedManifestMessage> versions) =>
        versions.Values.Where(v => v.Manifest.Dataset.StartsWith(Victim + "-", StringComparison.Ordinal)).OrderBy(v => int.Parse(v.Manifest.Dataset[(Victim.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>What docs/protocol.md §8 says the device does with the payload on the topic of <paramref name="topicName"/>.</summary>
    private static string Expect(byte[] payload, string topicName, Dictionary<string, SignedManifestMessage> versions, out SignedManifestMessage? signed)
    {
        if (!SyncMessageCodec.TryReadManifest(payload, out var read, out _))
        {
            signed = null;
            return "refused";
        }

        signed = read;
        var manifest = read.Manifest;
        if (manifest.Fleet != SyncTestBed.Fleet || manifest.Dataset != topicName)
        {
            return "refused";
        }

        if (!versions.TryGetValue(manifest.Dataset, out var held) || manifest.Version > held.Manifest.Version)
        {
            return "taken";
        }

        // An equal version with the same canonical bytes is a redelivery, ignored without a word.
        return manifest.Version == held.Manifest.Version
               && ManifestCanonicalForm.GetBytes(manifest).AsSpan().SequenceEqual(ManifestCanonicalForm.GetBytes(held.Manifest))
            ? "redelivery"
            : "refused";
    }

    private static string? Judge(string expected, IReadOnlyList<string> lines, string topic, SignedManifestMessage? signed)
    {
        // Shards of a served victim whose stand-in bytes fail their hash are refused and fetched again meanwhile.
        var warnings = lines.Where(l => (l.StartsWith("Warning ", StringComparison.Ordinal) || l.StartsWith("Error ", StringComparison.Ordinal))
                                        && !l.Contains(" DeviceSyncEngine: Rejected shard ", StringComparison.Ordinal)).ToList();
        var taken = signed is not null && lines.Any(l => l.Contains($"Accepted manifest for dataset {signed.Manifest.Dataset} version {signed.Manifest.Version}", StringComparison.Ordinal));
        return expected switch
        {
            "taken" when !taken => "not taken",
            "taken" => null,
            "redelivery" when warnings.Count > 0 || lines.Any(l => l.Contains(" manifest ", StringComparison.Ordinal)) => "a redelivery was not ignored quietly",
            "redelivery" => null,
            _ when taken => "taken",
            _ when warnings.Count != 1 => $"{warnings.Count} warnings for one refusal",
            _ when !warnings[0].Contains(topic, StringComparison.Ordinal) => "the warning does not name the topic",
            _ when !CodecProbe.NamesField(warnings[0]) => "the warning does not name the field",
            _ => null,
        };
    }
}
