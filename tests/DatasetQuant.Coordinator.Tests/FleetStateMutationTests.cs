using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Coordinator.Tests;

/// <summary>
/// What a device sends the coordinator (its state report and its applied budget), mutated a few hundred times with a
/// seeded generator (<see cref="JsonMutator"/>), through the coordinator's own handler and a real SQLite store. Nothing
/// may throw (the service would stop); a refused message is logged once naming the topic and field and changes no row;
/// and after them all a valid report is still recorded.
/// </summary>
public sealed class FleetStateMutationTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Mutants = 300;
    private readonly FleetStateHandlerBed _bed = new("fleet-mutants");

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _bed.DisposeAsync();

    [Theory]
    [InlineData("state")]
    [InlineData("budget/reported")]
    public async Task Every_mutant_report_is_refused_naming_its_field_or_recorded_and_a_valid_one_is_still_recorded_after_them(string kind)
    {
        var topic = kind == "state" ? _bed.Topics.DeviceState("pi-07") : _bed.Topics.BudgetReported("pi-07");
        for (var version = 1; version <= 3; version++)
        {
            // The coordinators issued versions 1 to 3; the seed reports 3 applied.
            await _bed.Store.SetDesiredBudgetAsync("lab", "pi-07", version << 20, DateTimeOffset.UtcNow);
        }

        var failures = new List<string>();
        var refused = 0;
        for (var i = 0; i < Mutants && failures.Count < 10; i++)
        {
            var random = new Random(17_000 + i);
            var (mutant, description) = new JsonMutator(random).Mutate(kind == "state" ? State(DateTimeOffset.UtcNow.AddMinutes(-10)) : Reported(version: 3));
            var before = await RowsAsync();
            var from = _bed.Log.Lines.Count;
            try
            {
                await HandleAsync(kind, new MqttMessage(topic, mutant));
            }
            catch (Exception ex)
            {
                failures.Add($"mutant {i} ({description}): threw {ex.GetType().Name}: {ex.Message}");
                continue;
            }

            var lines = _bed.Log.Lines.Skip(from).Where(l => l.StartsWith("Warning ", StringComparison.Ordinal)).ToList();
            var decodes = kind == "state" ? SyncMessageCodec.TryReadDeviceState(mutant, out var state, out _) && state.Device == "pi-07"
                : SyncMessageCodec.TryReadBudgetReported(mutant, out var reported, out _) && reported.Device == "pi-07";
            if (decodes && lines.Count == 0)
            {
                continue;
            }

            refused++;
            var verdict = lines.Count != 1 ? $"{lines.Count} warnings"
                : !lines[0].Contains(topic, StringComparison.Ordinal) || !lines[0].Contains("field", StringComparison.Ordinal) && !lines[0].Contains("payload", StringComparison.Ordinal) ? "the warning names no topic or field"
                : await RowsAsync() != before ? "a refused report changed the store"
                : null;
            if (verdict is not null)
            {
                failures.Add($"mutant {i} ({description}): {verdict}{Environment.NewLine}    {string.Join(Environment.NewLine + "    ", lines)}");
            }
        }

        output.WriteLine($"{Mutants} mutants, {refused} refused");
        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
        Assert.True(refused > Mutants / 4, "the mutations do not reach the checks");

        // Whatever came before, the device's next true report is what the store holds.
        var now = DateTimeOffset.UtcNow;
        var next = (await _bed.Store.SetDesiredBudgetAsync("lab", "pi-07", 5 << 20, now)).Version;
        await HandleAsync(kind, new MqttMessage(topic, kind == "state" ? State(now, free: 123_456_789) : Reported(version: next)));
        var device = await _bed.Store.GetDeviceAsync("lab", "pi-07");
        Assert.NotNull(device);
        Assert.True(kind == "state" ? device.FreeFlashBytes == 123_456_789 : device.ReportedBudgetVersion == next, $"the valid report after the mutants was not recorded: {device}");
    }

    private Task HandleAsync(string kind, MqttMessage message) =>
        kind == "state" ? _bed.HandleStateAsync(message) : _bed.HandleBudgetReportedAsync(message);

    private async Task<string> RowsAsync() =>
        $"{await _bed.Store.GetDeviceAsync("lab", "pi-07")} {string.Join(",", await _bed.Store.ListHeldShardsAsync("lab", "pi-07"))}";

    private static byte[] State(DateTimeOffset at, long free = 5_368_709_120) => SyncMessageCodec.Serialize(new DeviceStateMessage
    {
        Device = "pi-07", FreeFlashBytes = free, HeldBytes = 3_518_234, BudgetBytes = 4_000_000, BudgetVersion = 3, UpdatedUtc = at,
        Datasets =
        [
            new HeldDatasetState
            {
                Name = "fmnist", ManifestVersion = 2, Complete = true, ReceivedBytes = 4_000_000,
                Shards = [new HeldShardState { Id = 0, Bytes = 1_759_117, Precision = "requantized" }, new HeldShardState { Id = 1, Bytes = 1_759_117 }],
            },
        ],
        Metrics = new Dictionary<string, double> { ["accuracy"] = 0.871 },
    });

    private static byte[] Reported(long version) => SyncMessageCodec.Serialize(new BudgetReportedMessage
    {
        Device = "pi-07", Version = version, BudgetBytes = 4_000_000, HeldBytes = 3_518_234, UpdatedUtc = DateTimeOffset.UtcNow,
    });
}
