using System.Diagnostics;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Sync.Tests.Mutation;

/// <summary>
/// The coordinator's side of a pull (<see cref="Coordinator.RepairResponder.TryPlan"/>, no broker needed): pulls mutated
/// as JSON and in meaning (shards listed twice, unknown ids, bitmaps of every length, other devices and versions).
/// Each must be refused with one warning naming the topic and field, or planned; nothing throws, and a plan never
/// asks for more than the chunks the dataset has, each at most once, whatever the pull says.
/// </summary>
public sealed class RepairResponderMutationTests(ITestOutputHelper output)
{
    private const int Mutants = 400;

    [Fact]
    public async Task Every_mutant_pull_is_refused_naming_its_field_or_answered_with_each_chunk_at_most_once()
    {
        await using var bed = new SyncTestBed();
        var manifest = (await bed.PublishAsync("fmnist", 3, bed.CreateShards("v3", 40_000, 16_384, 1))).Manifest;
        var chunks = manifest.Shards.Sum(s => (long)s.ChunkCount(manifest.ChunkSize));
        var topic = bed.Topics.DevicePull("pi-07");
        var failures = new List<string>();
        var (planned, refused) = (0, 0);
        for (var i = 0; i < Mutants && failures.Count < 10; i++)
        {
            var random = new Random(13_000 + i);
            var (pull, description) = random.Next(2) == 0 ? Semantic(random) : new JsonMutator(random).Mutate(Semantic(random).Bytes);
            var from = bed.Log.Lines.Count;
            var clock = Stopwatch.StartNew();
            Coordinator.RepairPlan? plan;
            try
            {
                plan = bed.Responder.TryPlan(new MqttMessage(topic, pull));
            }
            catch (Exception ex)
            {
                failures.Add($"mutant {i} ({description}): threw {ex.GetType().Name}: {ex.Message}");
                continue;
            }

            var lines = bed.Log.Lines.Skip(from).Where(l => l.Contains(" RepairResponder: ", StringComparison.Ordinal)).ToList();
            string? verdict = clock.Elapsed > CodecProbe.TimeLimit ? $"took {clock.ElapsedMilliseconds} ms" : null;
            if (plan is not null)
            {
                planned++;
                var shards = plan.Parts.Select(p => p.Shard.Id).ToList();
                verdict ??= shards.Distinct().Count() != shards.Count ? $"a shard planned twice ({string.Join(",", shards)})"
                    : plan.Chunks > chunks ? $"{plan.Chunks} chunks planned; the dataset has {chunks}"
                    : plan.Pull.Device != "pi-07" ? $"planned for device '{plan.Pull.Device}' on another's topic"
                    : null;
            }
            else
            {
                refused++;
                verdict ??= lines.Count == 0 && SyncMessageCodec.TryReadPullRequest(pull, out var read, out _) && read.Device == "pi-07" && read.Dataset == "fmnist" && read.ManifestVersion == 3
                    ? null // every part was ignored (each logged) or asked for nothing
                    : lines.Count == 0 ? "refused without a log line"
                    : lines.Any(l => !l.Contains(topic, StringComparison.Ordinal) || !CodecProbe.NamesField(l)) ? "a log line names no topic or field"
                    : null;
            }

            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}): {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
        }

        output.WriteLine($"{Mutants} pulls: {planned} planned, {refused} refused");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(planned > 20 && refused > 100, "the mutants reach both outcomes");
    }

    /// <summary>A pull of one to five parts with ids, bitmaps, device, dataset and version drawn from valid and invalid values.</summary>
    private static (byte[] Bytes, string Description) Semantic(Random random)
    {
        // Mostly the dataset's shards, each once; sometimes one twice, or one it does not have.
        int[] ids = random.Next(4) == 0 ? [0, 0, 1, 1, 2, 3, -1, int.MaxValue] : [0, 1, 2];
        var shards = ids.OrderBy(_ => random.Next()).Take(random.Next(1, 4)).Select(id =>
        {
            // Mostly one byte of bits within the shard's chunks (3, 1 and 1); sometimes any bytes, or not base64 at all.
            var bits = new byte[random.Next(6) == 0 ? random.Next(0, 5) : 1];
            random.NextBytes(bits);
            if (bits.Length == 1 && random.Next(6) != 0)
            {
                bits[0] &= (byte)(id == 0 ? 0x07 : 0x01);
            }

            var missing = random.Next(10) == 0 ? "not base64!" : Convert.ToBase64String(bits);
            return new PullShard { Id = id, Missing = missing };
        }).ToList();
        var pull = new PullRequestMessage
        {
            Device = random.Next(8) == 0 ? "pi-08" : "pi-07",
            Dataset = random.Next(8) == 0 ? "other" : "fmnist",
            ManifestVersion = new[] { 3L, 3, 3, 3, 3, 2, 4, long.MaxValue }[random.Next(8)],
            Shards = shards,
        };
        return (SyncMessageCodec.Serialize(pull), $"pull of {pull.Device} for {pull.Dataset} v{pull.ManifestVersion}: {string.Join(", ", shards.Select(s => $"{s.Id}:{s.Missing}"))}");
    }
}
