using System.Diagnostics;
using System.Runtime.CompilerServices;
using DatasetQuant.Agent.Memory;
using DatasetQuant.Mqtt;
using Microsoft.Extensions.Hosting.Internal;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Agent.Tests;

/// <summary>Runs alone: other tests' allocations would blur what one collection gives back.</summary>
[CollectionDefinition(nameof(IdleMemoryTrimmerTests), DisableParallelization = true)]
public sealed class IdleMemoryTrimmerCollection;

[Collection(nameof(IdleMemoryTrimmerTests))]
public sealed class IdleMemoryTrimmerTests
{
    [Fact]
    public void A_trim_gives_freed_heap_memory_back_instead_of_keeping_it_committed()
    {
        var trimmer = new IdleMemoryTrimmer(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        var committedWhileHeld = CommitAndDrop(40 << 20);

        trimmer.Trim("test");

        var committedAfter = GC.GetGCMemoryInfo().TotalCommittedBytes;
        Assert.True(committedAfter < committedWhileHeld - (30L << 20),
            $"committed {committedWhileHeld >> 20} MiB while 40 MiB were live, {committedAfter >> 20} MiB after the trim");
        Assert.Equal(1, trimmer.Trims);
    }

    [Fact]
    public void A_trim_empties_the_receive_buffer_pool_a_push_filled()
    {
        var trimmer = new IdleMemoryTrimmer(new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance), TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        ReceiveBufferPool.Shared.Trim(); // what earlier tests' messages left
        var chunks = Enumerable.Range(0, 8)
            .Select(_ => MqttMessage.CreateReceived("dq/v1/lab/datasets/d/chunks", new byte[131_112], MqttQos.AtLeastOnce, retain: false))
            .ToList();
        chunks.ForEach(chunk => chunk.Dispose());
        Assert.Equal(8 * 256 * 1024, ReceiveBufferPool.Shared.RetainedBytes);

        trimmer.Trim("test");

        Assert.Equal(0, ReceiveBufferPool.Shared.RetainedBytes);
    }

    /// <summary>Fills <paramref name="bytes"/> of small-object arrays, returns what the heap committed while they lived.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long CommitAndDrop(int bytes)
    {
        var held = new List<byte[]>();
        for (var total = 0; total < bytes; total += 64 * 1024)
        {
            var piece = new byte[64 * 1024];
            piece.AsSpan().Fill(1);
            held.Add(piece);
        }

        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.KeepAlive(held);
        return committed;
    }

    [Fact]
    public async Task The_start_up_trim_runs_once_the_host_has_started_and_settled()
    {
        var lifetime = new ApplicationLifetime(NullLogger<ApplicationLifetime>.Instance);
        using var trimmer = new IdleMemoryTrimmer(lifetime, TimeProvider.System, NullLogger<IdleMemoryTrimmer>.Instance);
        await trimmer.StartAsync(CancellationToken.None);
        await Task.Delay(300);
        Assert.Equal(0, trimmer.Trims); // not before the host said it started

        var clock = Stopwatch.StartNew();
        lifetime.NotifyStarted();
        var deadline = IdleMemoryTrimmer.StartupSettleTime + TimeSpan.FromSeconds(15);
        while (trimmer.Trims == 0)
        {
            Assert.True(clock.Elapsed < deadline, "the start-up trim did not run");
            await Task.Delay(50);
        }

        Assert.True(clock.Elapsed >= IdleMemoryTrimmer.StartupSettleTime - TimeSpan.FromMilliseconds(50), $"trimmed after {clock.Elapsed}");
        await trimmer.StopAsync(CancellationToken.None);
        Assert.Equal(1, trimmer.Trims);
    }
}
