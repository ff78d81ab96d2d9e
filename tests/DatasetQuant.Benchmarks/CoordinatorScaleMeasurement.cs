using System.Diagnostics;
using System.Globalization;
using DatasetQuant.Integration.Tests.Fleet;
using DatasetQuant.Integration.Tests.Scale;
using DatasetQuant.Testing;

namespace DatasetQuant.Benchmarks;

/// <summary>
/// <c>dotnet run -c Release --project tests/DatasetQuant.Benchmarks -- coordinator-scale [--devices 300]
/// [--coordinators 1,2,3] [--seconds 15] [--rounds 3] [--fsync off] [--nodelay off]</c>: repairs per second and budget decisions per second of N
/// <c>dq-coordinator serve</c> processes in one share group, on one mosquitto and one PostgreSQL (fsync on, as
/// deployed), under a closed loop of simulated devices. Repairs: every device that holds everything loses one chunk
/// and pulls it, so about one pull per device is always waiting. Budgets: every device whose last budget change has
/// arrived moves its flash by half and reports, so one decision per device is always waiting. The configurations are
/// interleaved round by round and each is reported with the CPU seconds the coordinators, the broker, PostgreSQL
/// and the simulated fleet (this process) spent, which says what limits it. <c>--fsync off</c> runs PostgreSQL without
/// durable commits, to see how much of the time is commit latency; <c>--nodelay off</c> runs mosquitto without
/// <c>set_tcp_nodelay</c> (its default, not the deployed configuration).
/// </summary>
internal static class CoordinatorScaleMeasurement
{
    private const long MiB = 1L << 20;

    public static async Task<int> RunAsync(string[] args)
    {
        var deviceCount = Option(args, "--devices", 300);
        var seconds = Option(args, "--seconds", 15);
        var rounds = Option(args, "--rounds", 3);
        var counts = (OptionText(args, "--coordinators") ?? "1,2,3").Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray();
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 32), io);

        using var shards = FashionMnistShardSet.Create(samples: 1500, shardSizeBytes: 48 * 1024, bitsPerPixel: 2);
        var durable = OptionText(args, "--fsync") != "off";
        var noDelay = OptionText(args, "--nodelay") != "off";
        await using var postgres = await PostgresServer.StartAsync(durable);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{deviceCount} devices, {shards.Files.Count} shards of <= 48 KiB (one chunk each), {seconds} s per phase, {rounds} rounds, PostgreSQL fsync {(durable ? "on" : "off")}, broker TCP_NODELAY {(noDelay ? "on" : "off")}; load average {LoadAverage()}"));
        Console.WriteLine("| coordinators | round | load | repairs/s | budget decisions/s | CPU s per s (repairs): coordinators, broker, postgres, fleet | CPU s per s (budgets): coordinators, broker, postgres, fleet |");
        Console.WriteLine("|---:|---:|---:|---:|---:|---|---|");
        var results = counts.ToDictionary(c => c, _ => (Repairs: new List<double>(), Budgets: new List<double>()));
        for (var round = 1; round <= rounds; round++)
        {
            foreach (var n in counts)
            {
                var (repairs, budgets, repairCpu, budgetCpu) = await MeasureAsync(postgres, noDelay, shards, n, deviceCount, TimeSpan.FromSeconds(seconds));
                results[n].Repairs.Add(repairs);
                results[n].Budgets.Add(budgets);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {n} | {round} | {LoadAverage()} | {repairs:F1} | {budgets:F1} | {repairCpu} | {budgetCpu} |"));
            }
        }

        Console.WriteLine();
        Console.WriteLine("| coordinators | repairs/s (median) | vs 1 | budget decisions/s (median) | vs 1 |");
        Console.WriteLine("|---:|---:|---:|---:|---:|");
        var baseRepairs = Median(results[counts[0]].Repairs);
        var baseBudgets = Median(results[counts[0]].Budgets);
        foreach (var n in counts)
        {
            var r = Median(results[n].Repairs);
            var b = Median(results[n].Budgets);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {n} | {r:F1} | {r / baseRepairs:F2} | {b:F1} | {b / baseBudgets:F2} |"));
        }

        return 0;
    }

    private static async Task<(double Repairs, double Budgets, string RepairCpu, string BudgetCpu)> MeasureAsync(
        PostgresServer postgres, bool noDelay, FashionMnistShardSet shards, int coordinators, int deviceCount, TimeSpan phase)
    {
        await using var bed = await ScaleBed.StartAsync(postgres, noDelay);
        await bed.StartCoordinatorsAsync(coordinators);
        var random = new Random(29);
        var devices = Enumerable.Range(0, deviceCount).Select(i => new SimulatedDevice($"sim-{i:D3}", random.Next(64, 512) * MiB)).ToList();
        await using var fleet = await SimulatedFleet.StartAsync(bed.Broker.Url, bed.Topics, devices, lanes: 8, broadcastLoss: 0.4, seed: 3);
        fleet.ExpectDataset("fmnist", shards.Directory);
        await fleet.ReportAsync();
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.AppliedVersion >= 1)), TimeSpan.FromMinutes(3), () => "budgets");
        await bed.PublishAsync("fmnist", shards.Directory);
        fleet.StartPulling();
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.Complete)), TimeSpan.FromMinutes(3), () => "v1 complete");

        // Repairs: a device that holds everything loses a chunk; the fleet's pull loop asks for it.
        var answeredBefore = Answered(devices);
        var pullsBefore = fleet.PullsSent;
        var coordinatorBefore = await PullCountersAsync(bed);
        var cpu = CpuSnapshot(bed, postgres);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < phase)
        {
            foreach (var device in devices.Where(d => d.Complete))
            {
                device.LoseChunks(1, random);
            }

            await Task.Delay(20);
        }

        var repairs = (Answered(devices) - answeredBefore) / clock.Elapsed.TotalSeconds;
        var repairCpu = CpuReport(cpu, CpuSnapshot(bed, postgres), clock.Elapsed);
        var coordinatorAfter = await PullCountersAsync(bed);
        var perCoordinator = string.Join(", ", coordinatorBefore.Zip(coordinatorAfter, (b, a) => $"{a.Received - b.Received}/{a.Answered - b.Answered}"));
        Console.Error.WriteLine($"  {coordinators} coordinators: {fleet.PullsSent - pullsBefore} pulls sent; received/answered per coordinator: {perCoordinator}");
        await FleetBed.WaitUntilAsync(() => Task.FromResult(devices.All(d => d.Complete)), TimeSpan.FromMinutes(3), () => "repairs drained");

        // Budgets: a device whose last change has been decided and applied moves its flash again and reports.
        var appliedBefore = devices.Sum(d => d.Applied.Count);
        var waitingFor = devices.ToDictionary(d => d.Id, d => d.AppliedVersion);
        cpu = CpuSnapshot(bed, postgres);
        clock.Restart();
        while (clock.Elapsed < phase)
        {
            var ready = devices.Where(d => d.AppliedVersion >= waitingFor[d.Id]).ToList();
            foreach (var device in ready)
            {
                device.AvailableBytes = device.AvailableBytes % 2 == 0 ? device.AvailableBytes * 3 / 2 + 1 : (device.AvailableBytes - 1) * 2 / 3;
                waitingFor[device.Id] = device.AppliedVersion + 1;
            }

            await fleet.ReportAsync(ready);
            await Task.Delay(20);
        }

        var budgets = (devices.Sum(d => d.Applied.Count) - appliedBefore) / clock.Elapsed.TotalSeconds;
        var budgetCpu = CpuReport(cpu, CpuSnapshot(bed, postgres), clock.Elapsed);
        return (repairs, budgets, repairCpu, budgetCpu);
    }

    private static async Task<List<(double Received, double Answered)>> PullCountersAsync(ScaleBed bed)
    {
        var counters = new List<(double, double)>();
        foreach (var coordinator in bed.Coordinators)
        {
            var metrics = await bed.MetricsAsync(coordinator);
            var labels = $"{{fleet=\"{ScaleBed.FleetName}\",coordinator=\"{coordinator.Name}\"";
            counters.Add((metrics.GetValueOrDefault($"dq_coordinator_messages_total{labels},kind=\"pull\"}}"),
                metrics.GetValueOrDefault($"dq_coordinator_pulls_answered_total{labels}}}")));
        }

        return counters;
    }

    private static int Answered(IEnumerable<SimulatedDevice> devices) => devices.Sum(d => d.Pulls.Count(p => p.AnsweredAt is not null));

    /// <summary>CPU seconds so far of the coordinators, the broker, PostgreSQL (postmaster and backends) and this process.</summary>
    private static double[] CpuSnapshot(ScaleBed bed, PostgresServer postgres) =>
    [
        bed.Coordinators.Where(c => !c.HasExited).Sum(c => ProcessCpuSeconds(c.Id, withChildren: false)),
        bed.Broker.ProcessId is { } broker ? ProcessCpuSeconds(broker, withChildren: false) : 0,
        ProcessCpuSeconds(postgres.ProcessId, withChildren: true),
        Process.GetCurrentProcess().TotalProcessorTime.TotalSeconds,
    ];

    private static string CpuReport(double[] before, double[] after, TimeSpan elapsed) =>
        string.Join(", ", before.Zip(after, (b, a) => ((a - b) / elapsed.TotalSeconds).ToString("F2", CultureInfo.InvariantCulture)));

    /// <summary>utime + stime from /proc (and, with children, of every live child plus the children already reaped).</summary>
    private static double ProcessCpuSeconds(int pid, bool withChildren)
    {
        static (int Parent, double Own, double Reaped)? Read(int pid)
        {
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                double Ticks(int field) => double.Parse(fields[field - 3], CultureInfo.InvariantCulture) / 100.0;
                return (int.Parse(fields[1], CultureInfo.InvariantCulture), Ticks(14) + Ticks(15), Ticks(16) + Ticks(17));
            }
            catch (IOException)
            {
                return null;
            }
        }

        if (Read(pid) is not { } self)
        {
            return 0;
        }

        var total = self.Own;
        if (withChildren)
        {
            total += self.Reaped;
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                if (int.TryParse(Path.GetFileName(dir), out var child) && Read(child) is { } c && c.Parent == pid)
                {
                    total += c.Own;
                }
            }
        }

        return total;
    }

    private static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback) =>
        OptionText(args, name) is { } text ? int.Parse(text, CultureInfo.InvariantCulture) : fallback;

    private static string? OptionText(string[] args, string name)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
    }
}
