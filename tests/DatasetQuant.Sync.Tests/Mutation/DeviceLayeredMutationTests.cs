using DatasetQuant.Sync.Coordinator;
using DatasetQuant.Sync.Messages;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Newer versions of a layered dataset the device holds, mutated in meaning (<see cref="ManifestMutator"/>) and signed
/// with the coordinator's key, each served from the real layer files where its entries still name them: the device
/// must refuse the malformed ones naming the field, and take the others and bring its copy to them, never stopping,
/// never holding a file its manifest does not list, and never stuck: a valid version published after each mutant is
/// held again, and the budget bounds what it holds.
/// </summary>
public sealed class DeviceLayeredMutationTests(HeldDatasetsFixture fixture, ITestOutputHelper output) : IClassFixture<HeldDatasetsFixture>
{
    private const int Mutants = 40;

    [Fact]
    public async Task Every_signed_mutant_of_a_held_layered_dataset_is_refused_or_taken_within_the_budget_and_the_true_next_version_is_held_again()
    {
        var (device, harness) = await fixture.StartDeviceAsync("dev-layers", o => o.PullQuietPeriod = TimeSpan.FromMilliseconds(20));
        var lay = fixture.LayDataset;
        var held = lay.Manifest.Version;

        // A budget that keeps about half of the layered dataset: what the manifests say about their layers decides how many.
        var budget = fixture.KeepDataset.Manifest.TotalBytes + (lay.Manifest.FullHeldBytes / 2);
        await harness.SendAsync(fixture.Bed.Topics.BudgetDesired(device.Id), WireSamples.BudgetDesired(device.Id, 1, budget));
        var failures = new List<string>();
        var (taken, refused) = (0, 0);
        for (var i = 0; i < Mutants && failures.Count < 5; i++)
        {
            var random = new Random(19_000 + i);
            var template = Rebuilt(lay.Manifest, held + 1);
            var (manifest, description) = new ManifestMutator(random).Mutate(template);
            var signed = WireSamples.Sign(manifest, fixture.Key);
            var topic = fixture.Bed.Topics.DatasetManifest(HeldDatasetsFixture.Lay);
            var valid = signed.Validate() is null && manifest.Dataset == HeldDatasetsFixture.Lay && manifest.Fleet == SyncTestBed.Fleet && manifest.Version > held
                        && manifest.Version < long.MaxValue;
            if (valid)
            {
                // Served before it is sent: the device pulls at once.
                fixture.Bed.Catalog.Add(new PublishedDataset(signed, lay.ShardDirectory));
            }

            var lines = await harness.SendAsync(topic, SyncMessageCodec.Serialize(signed));
            var accepted = lines.Any(l => l.Contains($"Accepted manifest for dataset lay version {manifest.Version}", StringComparison.Ordinal));
            (taken, refused) = valid ? (taken + 1, refused) : (taken, refused + 1);
            var verdict = valid != accepted ? (valid ? "not taken" : "taken")
                : !valid && !lines.Any(l => l.StartsWith("Warning ", StringComparison.Ordinal) && l.Contains(topic, StringComparison.Ordinal) && CodecProbe.NamesField(l)) ? "refused without a warning naming the topic and field"
                : valid ? await WithinBudgetAsync(device, manifest, budget)
                : null;
            if (verdict is null && valid)
            {
                // Whatever that version made of the copy, the true content at the next version is held again.
                var restored = WireSamples.Sign(Rebuilt(lay.Manifest, manifest.Version + 1), fixture.Key);
                held = restored.Manifest.Version;
                fixture.Bed.Catalog.Add(new PublishedDataset(restored, lay.ShardDirectory));
                await harness.SendAsync(topic, SyncMessageCodec.Serialize(restored));
                verdict = await WithinBudgetAsync(device, restored.Manifest, budget);
                MutationChecks.OnlyManifestFiles(harness, device, restored.Manifest);
            }

            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}), expected {(valid ? "taken" : "refused")}: {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
        }

        output.WriteLine($"{Mutants} mutants: {taken} taken, {refused} refused");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(taken >= 5 && refused >= 5, "the mutants reach both outcomes");
        Assert.Null(ServedVictims.HeldFilesMatchTheirManifests(harness, device));
        await device.StopAsync();
    }

    /// <summary>
    /// Waits until the device holds the version (as many layers as its budget keeps), and checks the budget bounds what
    /// it then holds (docs/protocol.md §7): null when so, else what went wrong.
    /// </summary>
    private static async Task<string?> WithinBudgetAsync(TestDevice device, DatasetManifest manifest, long budget)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (!device.Holds(manifest.Dataset, manifest.Version))
        {
            if (DateTime.UtcNow > deadline || device.Run!.IsCompleted)
            {
                return $"version {manifest.Version} is not held after 15 s (holds {device.Engine!.HeldBytes}){(device.Run!.IsCompleted ? ": the engine stopped, " + device.Run.Exception : "")}";
            }

            await Task.Delay(10);
        }

        await Task.Delay(50);
        return device.Engine!.HeldBytes <= budget ? null : $"holds {device.Engine.HeldBytes} bytes under a budget of {budget}";
    }

    private static DatasetManifest Rebuilt(DatasetManifest m, long version) => new()
    {
        Format = m.Format, Fleet = m.Fleet, Dataset = m.Dataset, Kind = m.Kind, Version = version, ChunkSize = m.ChunkSize,
        CreatedUnixSeconds = m.CreatedUnixSeconds, Shards = m.Shards,
    };
}
