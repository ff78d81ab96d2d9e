using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Chunks;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project tests/DatasetQuant.Benchmarks -- fleet-push [--rounds N] [--devices N] [--warmup N] [--pull-quiet-ms MS]</c>:
/// push goodput to 1 and to N devices against the raw broker carrying the same messages in the same run, the time
/// a late device needs to get the dataset by repair, and the bytes the coordinator publishes for one broadcast against
/// N devices each fetching the dataset on its own (unicast). Prints a Markdown table for docs/results.md. A whole-fleet
/// experiment of seconds per round, so a command rather than a BenchmarkDotNet class; medians over rounds, after
/// <c>--warmup</c> rounds (default 1) that are not counted, since a coordinator and a NativeAOT device run warm code.
/// <c>--pull-quiet-ms</c> sets the devices' pull quiet period (default 500 ms, the test bed's; a device's default is 2 s).
/// </summary>
internal static class FleetPushMeasurement
{
    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = Option(args, "--rounds", 5);
        var fleetSize = Option(args, "--devices", 20);
        var warmup = Option(args, "--warmup", 1);
        var pullQuiet = TimeSpan.FromMilliseconds(Option(args, "--pull-quiet-ms", 500));

        // On a fleet every device is a process with its own threads; here they share one pool, in which a device
        // waiting for an fsync must not hold up the others (or the publisher). Threads, not cores: they mostly wait.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, (2 * fleetSize) + 8), io);
        using var shards = FashionMnistShardSet.Create(samples: 10_000, shardSizeBytes: 1L << 20);
        var mb = shards.TotalBytes / 1e6;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"dataset: {shards.Files.Count} shards, {shards.TotalBytes} bytes (Fashion-MNIST test set at 4 bpp); {rounds} rounds after {warmup} warm-up; load average {LoadAverage()}"));

        var rows = new List<string>();
        foreach (var devices in new[] { 1, fleetSize })
        {
            await using var bed = await FleetBed.StartAsync();
            bed.PullQuietPeriod = pullQuiet;
            await bed.StartCoordinatorAsync();
            var fleet = new List<FleetDevice>();
            for (var i = 0; i < devices; i++)
            {
                fleet.Add(await bed.StartDeviceAsync($"dev-{i:D2}"));
            }

            await FleetBed.WaitUntilAsync(
                async () => (await bed.Store.ListDevicesAsync(FleetBed.FleetName)).Count(d => d.ReportedBudgetVersion >= 1) == devices,
                TimeSpan.FromMinutes(2), () => "devices ready");

            var raw = new List<double>();
            var push = new List<double>();
            var broadcast = new List<double>();
            var ratios = new List<double>();
            var gen2 = 0;
            var pause = TimeSpan.Zero;
            for (var round = -warmup; round < rounds; round++)
            {
                var rawSeconds = await RawBroadcastSecondsAsync(bed, shards, devices);
                var gen2Before = GC.CollectionCount(2);
                var pauseBefore = GC.GetTotalPauseDuration();
                // A new dataset name each round: a new version of the same bytes would be recognised as held already.
                var name = round < 0 ? $"warmup-{-round}" : $"fmnist-{round}";
                var result = await bed.PublishAsync(name, shards.Directory);
                await FleetBed.WaitUntilAsync(() => Task.FromResult(fleet.All(d => d.HasStored(name, result.Version))), TimeSpan.FromMinutes(2), () => "push");

                // From the manifest going out to the last device's verified, renamed dataset (event time, not poll time).
                var last = fleet.Max(d =>
                {
                    lock (d.Stored)
                    {
                        return d.StoredAt[(name, result.Version)];
                    }
                });

                var pushSeconds = Stopwatch.GetElapsedTime(result.BroadcastStarted, last).TotalSeconds;
                if (round < 0)
                {
                    continue;
                }

                gen2 += GC.CollectionCount(2) - gen2Before;
                pause += GC.GetTotalPauseDuration() - pauseBefore;
                raw.Add(rawSeconds);
                push.Add(pushSeconds);
                broadcast.Add(result.Elapsed.TotalSeconds);
                ratios.Add(rawSeconds / pushSeconds);
            }

            var repaired = (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Sum(t => t.Chunks);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{devices} devices: broadcast publish median {Median(broadcast) * 1000:F0} ms; chunks repaired during the pushes: {repaired}; " +
                $"push/raw per round [{string.Join(", ", ratios.Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}], median {Median(ratios):F2}; " +
                $"during the pushes {gen2} gen-2 collections, GC pauses {pause.TotalMilliseconds:F0} ms in all; load average {LoadAverage()}"));

            var rawMbps = mb / Median(raw);
            var pushMbps = mb / Median(push);
            rows.Add(string.Create(CultureInfo.InvariantCulture,
                $"| {devices} | {Median(raw) * 1000:F0} | {rawMbps:F1} | {Median(push) * 1000:F0} | {pushMbps:F1} | {pushMbps / rawMbps:F2} |"));

        }

        await MeasureRepairsAsync(shards, fleetSize, rounds);

        Console.WriteLine();
        Console.WriteLine("| devices | raw broker ms (median) | raw MB/s | push ms, manifest out → last device verified (median) | push goodput MB/s | push / raw |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
        rows.ForEach(Console.WriteLine);
        return 0;
    }

    /// <summary>Late devices: time to get the retained dataset by repair alone, and what N such unicast fetches cost.</summary>
    private static async Task MeasureRepairsAsync(FashionMnistShardSet shards, int fleetSize, int rounds)
    {
        await using var bed = await FleetBed.StartAsync();
        await bed.StartCoordinatorAsync();
        var published = await bed.PublishAsync("fmnist-0", shards.Directory);
        var version = published.Version;
        var broadcastBytes = published.BytesPublished;
        var lateTimes = new List<double>();
        for (var i = 0; i < rounds; i++)
        {
            var clock = Stopwatch.StartNew();
            var late = await bed.StartDeviceAsync($"late-{i}");
            await FleetBed.WaitUntilAsync(() => Task.FromResult(late.HasStored("fmnist-0", version)), TimeSpan.FromMinutes(2), () => "late device");
            lateTimes.Add(clock.Elapsed.TotalSeconds);
            await late.StopAsync();
        }

        var before = (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Sum(t => t.Bytes);
        var unicast = new List<FleetDevice>();
        var unicastClock = Stopwatch.StartNew();
        for (var i = 0; i < fleetSize; i++)
        {
            unicast.Add(await bed.StartDeviceAsync($"uni-{i:D2}"));
        }

        await FleetBed.WaitUntilAsync(() => Task.FromResult(unicast.All(d => d.HasStored("fmnist-0", version))), TimeSpan.FromMinutes(3), () => "unicast devices");
        unicastClock.Stop();
        await FleetBed.WaitUntilAsync(
            async () => (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Count(t => t.DeviceId.StartsWith("uni-", StringComparison.Ordinal)) == fleetSize,
            TimeSpan.FromSeconds(30), () => "repair records");
        var unicastBytes = (await bed.Store.ListRepairTotalsAsync(FleetBed.FleetName)).Sum(t => t.Bytes) - before;

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"late device by repair: median {Median(lateTimes) * 1000:F0} ms from process start to verified dataset (includes the {bed.DeviceOptions("x").PullQuietPeriod.TotalMilliseconds:F0} ms quiet period before the first pull); " +
            $"dataset {shards.TotalBytes} bytes"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bytes published by the coordinator: one broadcast {broadcastBytes}; {fleetSize} devices each fetching by unicast repair {unicastBytes} " +
            $"({(double)unicastBytes / broadcastBytes:F1}x), in {unicastClock.Elapsed.TotalSeconds:F1} s"));
    }

    /// <summary>The same messages as the push (chunk-frame sizes) from one publisher to <paramref name="subscribers"/> plain subscribers.</summary>
    private static async Task<double> RawBroadcastSecondsAsync(FleetBed bed, FashionMnistShardSet shards, int subscribers)
    {
        var sizes = new List<int>();
        foreach (var file in shards.Files)
        {
            for (var left = new FileInfo(file).Length; left > 0; left -= ChunkFrameConstants.MaxPayload)
            {
                sizes.Add((int)Math.Min(left, ChunkFrameConstants.MaxPayload) + ChunkFrameConstants.FixedHeaderSize + "fmnist-0".Length);
            }
        }

        var topic = $"bench/raw/{Guid.NewGuid():N}";
        var sessions = new List<MqttConnection>();
        try
        {
            for (var i = 0; i < subscribers; i++)
            {
                var session = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = $"raw-sub-{i}-{topic[^6..]}" });
                await session.SubscribeAsync(topic, MqttQos.AtLeastOnce);
                sessions.Add(session);
            }

            var publisher = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = bed.Broker.Url, ClientId = $"raw-pub-{topic[^6..]}", MaxInFlight = 64 });
            sessions.Add(publisher);
            var payload = new byte[sizes.Max()];
            Random.Shared.NextBytes(payload);
            var clock = Stopwatch.StartNew();
            var drains = sessions.Take(subscribers).Select(s => DrainAsync(s, sizes.Count)).ToArray();
            var window = new Queue<Task>();
            foreach (var size in sizes)
            {
                if (window.Count == 16)
                {
                    await window.Dequeue();
                }

                window.Enqueue(publisher.PublishAsync(new MqttMessage(topic, payload.AsMemory(0, size))).AsTask());
            }

            await Task.WhenAll(window);
            await Task.WhenAll(drains).WaitAsync(TimeSpan.FromMinutes(2));
            return clock.Elapsed.TotalSeconds;
        }
        finally
        {
            foreach (var session in sessions)
            {
                await session.DisposeAsync();
            }
        }
    }

    private static async Task DrainAsync(MqttConnection session, int count)
    {
        for (var received = 0; received < count; received++)
        {
            // A consumer that keeps nothing: the payload goes back to the pool at once, as in the device's loop.
            (await session.Messages.ReadAsync()).Dispose();
        }
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "n/a";

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}
