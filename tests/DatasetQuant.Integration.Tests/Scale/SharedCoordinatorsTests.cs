using System.Collections.Concurrent;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Testing;
using Xunit.Abstractions;

namespace DatasetQuant.Integration.Tests.Scale;

/// <summary>
/// Three <c>dq-coordinator serve</c> processes in one share group on one mosquitto and one PostgreSQL, 300 simulated
/// devices, two dataset pushes with repairs and budget changes running, and one coordinator SIGKILLed in the middle.
/// </summary>
[Collection(FleetCollection.Name)]
public sealed class SharedCoordinatorsTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private const int DeviceCount = 300;
    private const long MiB = 1L << 20;

    [Fact]
    public async Task With_one_of_three_coordinators_killed_every_repair_is_answered_budgets_stay_single_valued_and_monotone_and_no_row_is_lost_or_doubled()
    {
        using var v1 = FashionMnistShardSet.Create(samples: 1500, shardSizeBytes: 48 * 1024, bitsPerPixel: 2);
        using var v2 = FashionMnistShardSet.Create(samples: 1500, shardSizeBytes: 48 * 1024, bitsPerPixel: 3);
        await using var bed = await ScaleBed.StartAsync(postgres.Server);
        await bed.StartCoordinatorsAsync(3);

        // Everything said on the retained budget topics, in the order the broker delivered it.
        var wire = new ConcurrentDictionary<string, List<(long Version, long Bytes)>>(StringComparer.Ordinal);
        await using var observer = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = "observer" });
        await observer.SubscribeAsync($"dq/v1/{ScaleBed.FleetName}/devices/+/budget/desired", MqttQos.AtLeastOnce);
        var watching = Task.Run(async () =>
        {
            await foreach (var message in observer.Messages.ReadAllAsync())
            {
                using (message)
                {
                    if (SyncMessageCodec.TryReadBudgetDesired(message.Payload.Span, out var desired, out _))
                    {
                        var seen = wire.GetOrAdd(desired.Device, _ => []);
                        lock (seen)
                        {
                            seen.Add((desired.Version, desired.Bytes));
                        }
                    }
                }
            }
        });

        // The store's desired budgets, sampled while everything runs: a version must never go down.
        using var stopSampling = new CancellationTokenSource();
        var storeRegressions = new ConcurrentBag<string>();
        var sampling = Task.Run(async () =>
        {
            var last = new Dictionary<string, long>(StringComparer.Ordinal);
            while (!stopSampling.IsCancellationRequested)
            {
                foreach (var budget in await bed.Store.ListDesiredBudgetsAsync(ScaleBed.FleetName))
                {
                    if (last.TryGetValue(budget.DeviceId, out var before) && budget.Version < before)
                    {
                        storeRegressions.Add($"{budget.DeviceId}: v{before} then v{budget.Version}");
                    }

                    last[budget.DeviceId] = budget.Version;
                }

                await Task.Delay(250);
            }
        });

        var random = new Random(17);
        var devices = Enumerable.Range(0, DeviceCount).Select(i => new SimulatedDevice($"sim-{i:D3}", random.Next(64, 512) * MiB)).ToList();
        await using var fleet = await SimulatedFleet.StartAsync(bed.Broker.Url, bed.Topics, devices, lanes: 8, broadcastLoss: 0.4, seed: 5);
        fleet.ExpectDataset("fmnist", v1.Directory);
        await fleet.ReportAsync();
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.AppliedVersion >= 1)), TimeSpan.FromSeconds(120),
            () => $"{devices.Count(d => d.AppliedVersion >= 1)} of {DeviceCount} devices have a budget\n{bed.Coordinators[0].Output[^Math.Min(3000, bed.Coordinators[0].Output.Length)..]}");

        // Push v1: each device misses 40% of the broadcast and pulls the rest from whichever coordinator the broker picks.
        await bed.PublishAsync("fmnist", v1.Directory);
        fleet.StartPulling();
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.Complete && d.DatasetVersion == 1)), TimeSpan.FromSeconds(120),
            () => $"{devices.Count(d => d.Complete)} of {DeviceCount} devices complete v1");
        await fleet.ReportAsync();

        // Push v2 and, while its repairs run, move a third of the budgets and kill coordinator-b.
        fleet.ExpectDataset("fmnist", v2.Directory);
        await bed.PublishAsync("fmnist", v2.Directory);
        await FleetBed.WaitUntilAsync(async () => (await bed.Store.ListRecentRepairsAsync(ScaleBed.FleetName, 10_000)).Count(r => r.ManifestVersion == 2) >= DeviceCount / 4,
            TimeSpan.FromSeconds(120), () => "v2 repairs under way");
        var moved = devices.Where((_, i) => i % 3 == 0).ToList();
        foreach (var device in moved)
        {
            device.AvailableBytes = device.AvailableBytes * 3 / 2;
        }

        await fleet.ReportAsync(moved);
        var killed = bed.Coordinators[1];
        var answeredByKilled = await bed.CounterAsync(killed, "dq_coordinator_pulls_answered_total");
        killed.Kill();
        var pullsAtKill = fleet.PullsSent;
        output.WriteLine($"killed {killed.Name} after it answered {answeredByKilled} pulls; {pullsAtKill} pulls sent so far");

        foreach (var device in devices.Where((_, i) => i % 3 == 1))
        {
            device.AvailableBytes /= 2;
        }

        await fleet.ReportAsync(devices.Where((_, i) => i % 3 == 1));
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.Complete && d.DatasetVersion == 2)), TimeSpan.FromSeconds(120),
            () => $"{devices.Count(d => d.Complete && d.DatasetVersion == 2)} of {DeviceCount} devices complete v2");
        await fleet.ReportAsync();
        await FleetBed.WaitUntilAsync(async () =>
        {
            var desired = (await bed.Store.ListDesiredBudgetsAsync(ScaleBed.FleetName)).ToDictionary(b => b.DeviceId);
            var holdings = await bed.Store.ListHoldingsAsync(ScaleBed.FleetName);
            var reported = (await bed.Store.ListDevicesAsync(ScaleBed.FleetName)).ToDictionary(d => d.DeviceId, d => d.ReportedBudgetVersion);
            return devices.All(d => desired.TryGetValue(d.Id, out var b) && b.IsPublished && d.AppliedVersion == b.Version
                    && reported.TryGetValue(d.Id, out var r) && r == b.Version)
                && holdings.Count(h => h.ManifestVersion == 2) == DeviceCount;
        }, TimeSpan.FromSeconds(90), () => "budgets, the devices' reports of them and holdings converged");
        await stopSampling.CancelAsync();
        await sampling;

        // Every repair answered: every device holds every chunk of v2, each checked against the shard's bytes.
        Assert.All(devices, d => Assert.Equal(0, d.CorruptChunks));
        var pulls = devices.SelectMany(d => d.Pulls.Select(p => (Device: d.Id, Pull: p))).ToList();
        var answeredKeys = pulls.Where(p => p.Pull.AnsweredAt is not null).Select(p => (p.Device, p.Pull.Key)).ToHashSet();
        var sentKeys = pulls.Select(p => (p.Device, p.Pull.Key)).ToHashSet();
        var repairs = await bed.Store.ListRecentRepairsAsync(ScaleBed.FleetName, 100_000);
        var recordedKeys = repairs.Select(r => (r.DeviceId, r.RequestKey)).ToHashSet();
        output.WriteLine($"{pulls.Count} pulls sent ({pulls.Count - sentKeys.Count} repeated with the same bytes), {answeredKeys.Count} answered, {repairs.Count} repairs recorded, {fleet.PullsSent - pullsAtKill} pulls after the kill");

        // No row lost or doubled: every chunk a device received as a repair was asked for by a pull whose repair row
        // exists (coordinators record before they send, so a killed one cannot have sent an unrecorded repair); every
        // row is a pull a device sent, and no pull has two rows.
        var recordedPulls = devices.SelectMany(d => d.Pulls.Where(p => recordedKeys.Contains((d.Id, p.Key))).Select(p => (Device: d.Id, Pull: p))).ToList();
        foreach (var device in devices)
        {
            var covered = recordedPulls.Where(p => p.Device == device.Id).SelectMany(p => p.Pull.Wanted.Select(w => (p.Pull.Version, w.Shard, w.Chunk))).ToHashSet();
            Assert.All(device.RepairedChunks, c => Assert.Contains(c, covered));
        }

        Assert.Equal(repairs.Count, recordedKeys.Count);
        Assert.Empty(recordedKeys.Except(sentKeys));
        output.WriteLine($"{recordedKeys.Except(answeredKeys).Count()} recorded pulls not seen answered in full by the devices (answered through an earlier or later pull, or cut off by the kill)");
        Assert.True(answeredByKilled > 0, "the killed coordinator had taken no share of the pulls");
        var stored = await bed.Store.ListDevicesAsync(ScaleBed.FleetName);
        Assert.Equal(devices.Select(d => d.Id).Order(StringComparer.Ordinal), stored.Select(d => d.DeviceId));
        var v2Shards = (await bed.Store.GetDatasetAsync(ScaleBed.FleetName, "fmnist"))!.Shards;
        Assert.Equal(2, (await bed.Store.GetDatasetAsync(ScaleBed.FleetName, "fmnist"))!.ManifestVersion);
        Assert.All(await bed.Store.ListHoldingsAsync(ScaleBed.FleetName), h => Assert.Equal((2L, v2Shards.Count), (h.ManifestVersion, h.Shards)));
        Assert.Equal(DeviceCount, (await bed.Store.ListHoldingsAsync(ScaleBed.FleetName)).Count);
        Assert.Equal([1L, 2L], (await bed.Store.ListBroadcastsAsync(ScaleBed.FleetName, "fmnist")).Select(b => b.ManifestVersion));

        // Budgets: one size per version everywhere, versions that only rise in the store and on the wire, and at the end
        // the store, the retained message, the device and its report agree.
        Assert.Empty(storeRegressions);
        var desiredNow = (await bed.Store.ListDesiredBudgetsAsync(ScaleBed.FleetName)).ToDictionary(b => b.DeviceId);
        Assert.Equal(DeviceCount, desiredNow.Count);
        foreach (var device in devices)
        {
            var seen = wire[device.Id];
            lock (seen)
            {
                Assert.All(seen.GroupBy(s => s.Version), g => Assert.Single(g.Select(s => s.Bytes).Distinct()));
                Assert.True(seen.Zip(seen.Skip(1)).All(p => p.Second.Version >= p.First.Version), $"{device.Id}: the wire went back: {string.Join(", ", seen)}");
                Assert.Equal((desiredNow[device.Id].Version, desiredNow[device.Id].Bytes), seen[^1]);
            }

            Assert.Equal(0, device.Regressions);
            lock (seen)
            {
                Assert.All(device.Applied, a => Assert.Contains(a, seen));
            }

            Assert.Equal((desiredNow[device.Id].Version, desiredNow[device.Id].Bytes), (device.AppliedVersion, device.AppliedBytes));
            Assert.Equal(desiredNow[device.Id].Version, stored.Single(s => s.DeviceId == device.Id).ReportedBudgetVersion);
        }

        Assert.True(moved.All(d => d.Applied.Count >= 2), "a budget that moved got a new version");
        var publishes = 0.0;
        foreach (var coordinator in bed.Coordinators.Where(c => c != killed))
        {
            publishes += await bed.CounterAsync(coordinator, "dq_coordinator_budget_publishes_total");
        }

        output.WriteLine($"budgets published by the surviving coordinators: {publishes}; desired-budget messages on the wire: {wire.Values.Sum(w => w.Count)}; " +
            $"devices' budgets applied: {devices.Sum(d => d.Applied.Count)}, repeats ignored: {devices.Sum(d => d.Repeats)}");

        foreach (var coordinator in bed.Coordinators.Where(c => c != killed))
        {
            Assert.True(await coordinator.StopAsync(TimeSpan.FromSeconds(30)) == 0, coordinator.Output);
        }

        await observer.DisposeAsync();
        await watching.WaitAsync(TimeSpan.FromSeconds(10)).ContinueWith(_ => { }, TaskScheduler.Default);
    }
}
