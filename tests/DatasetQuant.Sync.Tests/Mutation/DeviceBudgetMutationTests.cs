using System.Text.Json.Nodes;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// Budget documents mutated (<see cref="JsonMutator"/>) from one for the device at the next version, sent on its budget
/// topic and on another device's: each is refused with a warning naming the field (malformed, another device), ignored
/// (an equal version), logged (a lower one) or applied, as docs/protocol.md §3 says; the datasets held stay byte for
/// byte (a budget that would shrink them is applied by other tests, not sent here) and the state file changes only
/// when a budget is applied.
/// </summary>
public sealed class DeviceBudgetMutationTests(HeldDatasetsFixture fixture, ITestOutputHelper output) : IClassFixture<HeldDatasetsFixture>
{
    private const int Mutants = 300;

    [Fact]
    public async Task Every_mutant_budget_is_refused_naming_its_field_ignored_or_applied_and_nothing_held_changes()
    {
        var (device, harness) = await fixture.StartDeviceAsync("dev-budget");
        await harness.SendAsync("dq/v1/lab/mutation/settle", []);
        var held = harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay);
        var roomy = fixture.FullBytes + (1 << 20);
        var applied = 0L;
        var failures = new List<string>();
        var counts = new Dictionary<string, int>();
        for (var i = 0; i < Mutants && failures.Count < 10; i++)
        {
            var random = new Random(11_000 + i);
            var (version, bytes) = (applied + random.Next(-1, 3), random.Next(4) == 0 ? roomy - random.Next(2) : 1L << 40);
            var seed = WireSamples.BudgetDesired(random.Next(8) == 0 ? "other-device" : device.Id, version, bytes);
            var (mutant, description) = random.Next(3) == 0 ? (seed, $"version {version}, {bytes} bytes") : new JsonMutator(random).Mutate(seed);
            var topic = fixture.Bed.Topics.BudgetDesired(random.Next(10) == 0 ? "someone-else" : device.Id);
            var expected = Expect(mutant, topic, device.Id, applied, out var desired);
            if (expected == "applied" && desired!.Bytes < roomy)
            {
                // A budget below the holdings shrinks them, as it should: other tests see to that.
                counts["skipped"] = counts.GetValueOrDefault("skipped") + 1;
                continue;
            }

            counts[expected] = counts.GetValueOrDefault(expected) + 1;
            var state = harness.State();
            var lines = await harness.SendAsync(topic, mutant);
            var about = lines.Where(l => l.Contains(topic, StringComparison.Ordinal)).ToList();
            var verdict = expected switch
            {
                "applied" => lines.Any(l => l.Contains($"Budget version {desired!.Version} for {device.Id}: {desired.Bytes} bytes", StringComparison.Ordinal))
                    && Budget(harness) == (desired!.Version, desired.Bytes) ? null : "not applied",
                "redelivery" => about.Count == 0 && !lines.Any(l => l.Contains("Budget version", StringComparison.Ordinal)) ? null : "an equal version was not ignored quietly",
                "other device's" => about.Count == 1 && about[0].Contains("unexpected topic", StringComparison.Ordinal) ? null : "not refused as a topic this device does not read",
                _ when about.Count != 1 => $"{about.Count} log lines naming the topic for one refusal",
                _ when !CodecProbe.NamesField(about[0]) => "the log line does not name the field",
                _ => null,
            };
            if (verdict is null && expected != "applied" && !state.AsSpan().SequenceEqual(harness.State()))
            {
                verdict = "the state file changed";
            }

            verdict ??= harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay) == held ? null : "the held datasets changed";
            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}) on {topic}, expected {expected}: {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
            else if (expected == "applied")
            {
                applied = desired!.Version;
            }
        }

        output.WriteLine(string.Join(", ", counts.Select(c => $"{c.Value} {c.Key}")));
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(counts.GetValueOrDefault("applied") > 10 && counts.GetValueOrDefault("refused") > Mutants / 4, "the mutants reach every outcome");

        // A valid budget after them all is still applied.
        var last = await harness.SendAsync(fixture.Bed.Topics.BudgetDesired(device.Id), WireSamples.BudgetDesired(device.Id, applied + 1, roomy));
        Assert.Equal((applied + 1, roomy), Budget(harness));
        Assert.Contains(last, l => l.Contains($"Budget version {applied + 1}", StringComparison.Ordinal));
        Assert.Equal(held, harness.Holdings(HeldDatasetsFixture.Keep, HeldDatasetsFixture.Lay));
        await device.StopAsync();
    }

    /// <summary>What docs/protocol.md §3 says the device does with the document on <paramref name="topic"/>.</summary>
    private static string Expect(byte[] payload, string topic, string device, long applied, out BudgetDesiredMessage? desired)
    {
        desired = null;
        if (!topic.Contains($"/{device}/", StringComparison.Ordinal))
        {
            return "other device's";
        }

        if (!SyncMessageCodec.TryReadBudgetDesired(payload, out var read, out _) || read.Device != device)
        {
            return "refused";
        }

        desired = read;
        return read.Version > applied ? "applied" : read.Version == applied ? "redelivery" : "lower";
    }

    private static (long Version, long? Bytes) Budget(MutationHarness harness)
    {
        var state = JsonNode.Parse(harness.State())!;
        return (state["budgetVersion"]!.GetValue<long>(), state["budgetBytes"]?.GetValue<long>());
    }
}
