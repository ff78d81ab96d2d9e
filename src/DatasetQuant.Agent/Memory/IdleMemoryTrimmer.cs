using System.Diagnostics;
using DatasetQuant.Mqtt;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Agent.Memory;

/// <summary>
/// Gives memory that only start-up or a fine-tune needed back when dq-agent turns idle: once start-up has settled, and
/// after every fine-tune. Two kinds of it stay resident otherwise, because an idle agent does too little to displace
/// them on a board with 512 MB for everything:
/// <list type="bullet">
/// <item>managed garbage: start-up (configuration, DI, logging, the first MQTT session) allocates about 6 MB that is
/// garbage a moment later, a fine-tune tens of MB, and an idle agent allocates so little that no collection would come
/// for hours;</item>
/// <item>mapped code: nearly every page of the binary and of libcrypto is mapped after start-up although the idle agent
/// runs a small part of them (<see cref="MappedFilePages"/>);</item>
/// <item>receive buffers: the MQTT session's pool keeps up to 2 MiB of payload arrays after a dataset push
/// (<see cref="ReceiveBufferPool"/>).</item>
/// </list>
/// </summary>
/// <remarks>
/// An aggressive collection compacts and decommits what it frees; it costs one full blocking collection of a heap that
/// holds well under two megabytes of live objects when idle (a few milliseconds), and runs only at those two moments.
/// The file pages are released after it: a full collection reads the type data of every live object, pages an idle
/// agent's small collections do not touch again (released before it, they came back: 12.5 MB instead of 10.8 MB idle
/// RSS after 75 s). Reading /proc/self/smaps leaves about 0.25 MB of garbage that the next collection takes. Code the
/// agent runs again afterwards is mapped back from the page cache on first use (minor faults, no I/O unless the kernel
/// has evicted the page meanwhile).
/// </remarks>
public sealed partial class IdleMemoryTrimmer(IHostApplicationLifetime lifetime, TimeProvider time, ILogger<IdleMemoryTrimmer> logger)
    : BackgroundService
{
    /// <summary>How long after the host started the start-up garbage is collected: the first session is up by then.</summary>
    public static readonly TimeSpan StartupSettleTime = TimeSpan.FromSeconds(5);

    /// <summary>Trims this trimmer has run (for tests and the log).</summary>
    public int Trims => Volatile.Read(ref _trims);

    private int _trims;

    /// <summary>
    /// Empties the receive-buffer pool, runs one aggressive, compacting, blocking collection of every generation, then
    /// unmaps the read-only file pages of the program and its libraries, and logs what it gave back.
    /// </summary>
    public void Trim(string reason)
    {
        var residentBefore = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        var pooledKiB = ReceiveBufferPool.Shared.Trim() >> 10;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        var unmappedKiB = MappedFilePages.Unmap();
        var elapsed = clock.Elapsed;
        var heap = GC.GetGCMemoryInfo();
        Interlocked.Increment(ref _trims);
        LogTrimmed(logger, reason, residentBefore >> 10, Environment.WorkingSet >> 10, unmappedKiB, pooledKiB, heap.HeapSizeBytes >> 10, heap.TotalCommittedBytes >> 10, elapsed.TotalMilliseconds);
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
        Message = "Memory trimmed after {Reason}: resident {BeforeKiB} KiB -> {AfterKiB} KiB ({UnmappedKiB} KiB of code and read-only data unmapped, {PooledKiB} KiB of receive buffers released), heap {LiveKiB} KiB live in {CommittedKiB} KiB committed, {Milliseconds:F1} ms")]
    private static partial void LogTrimmed(ILogger logger, string reason, long beforeKiB, long afterKiB, long unmappedKiB, long pooledKiB, long liveKiB, long committedKiB, double milliseconds);
}
