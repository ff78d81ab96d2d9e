using System.Diagnostics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent.Memory;

/// <summary>
/// Gives the managed heap's garbage back to the system when dq-agent turns idle: once start-up has settled, and after
/// every fine-tune. Start-up (configuration, DI, logging, the first MQTT session) allocates about 6 MB that is garbage a
/// moment later, and a fine-tune tens of MB; an idle agent allocates so little that no collection would come for hours,
/// so without this those pages would stay resident on a board with 512 MB for everything.
/// </summary>
/// <remarks>
/// An aggressive collection compacts and decommits what it frees; it costs one full blocking collection of a heap that
/// holds well under a megabyte of live objects when idle (a few milliseconds), and runs only at those two moments.
/// </remarks>
public sealed partial class ManagedHeapTrimmer(IHostApplicationLifetime lifetime, TimeProvider time, ILogger<ManagedHeapTrimmer> logger)
    : BackgroundService
{
    /// <summary>How long after the host started the start-up garbage is collected: the first session is up by then.</summary>
    public static readonly TimeSpan StartupSettleTime = TimeSpan.FromSeconds(5);

    /// <summary>Collections this trimmer has run (for tests and the log).</summary>
    public int Trims => Volatile.Read(ref _trims);

    private int _trims;

    /// <summary>Runs one aggressive, compacting, blocking collection of every generation and logs what it gave back.</summary>
    public void Trim(string reason)
    {
        var residentBefore = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var elapsed = clock.Elapsed;
        var heap = GC.GetGCMemoryInfo();
        Interlocked.Increment(ref _trims);
        LogTrimmed(logger, reason, residentBefore >> 10, Environment.WorkingSet >> 10, heap.HeapSizeBytes >> 10, heap.TotalCommittedBytes >> 10, elapsed.TotalMilliseconds);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        try
        {
            using (lifetime.ApplicationStarted.Register(static s => ((TaskCompletionSource)s!).TrySetResult(), started))
            {
                await started.Task.WaitAsync(stoppingToken);
            }

            await Task.Delay(StartupSettleTime, time, stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        Trim("start-up");
    }

    [LoggerMessage(Level = LogLevel.Information,
        Message = "Managed heap trimmed after {Reason}: resident {BeforeKiB} KiB -> {AfterKiB} KiB, heap {LiveKiB} KiB live in {CommittedKiB} KiB committed, {Milliseconds:F1} ms")]
    private static partial void LogTrimmed(ILogger logger, string reason, long beforeKiB, long afterKiB, long liveKiB, long committedKiB, double milliseconds);
}
