using System.Runtime.ExceptionServices;

namespace DatasetQuant.Training.Compute;

/// <summary>
/// A fixed set of worker threads for the training kernels. <see cref="Parallel.For(int, int, Action{int})"/> allocates
/// task and closure objects on every call, which a trainer stepping thousands of times per epoch cannot afford; these
/// workers are started once, block on a semaphore between jobs and take a preallocated <see cref="IParallelWork"/>.
/// The calling thread always runs part 0 itself.
/// </summary>
public sealed class ComputePool : IDisposable
{
    private readonly Thread[] _workers;
    private readonly SemaphoreSlim[] _start;
    private readonly object _gate = new();
    private IParallelWork? _work;
    private int _parts;
    private int _pending;
    private volatile bool _disposed;
    private Exception? _failure;

    /// <param name="parallelism">Threads that run a job, the caller's included; 0 means one per processor.</param>
    public ComputePool(int parallelism = 0)
    {
        if (parallelism < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(parallelism), parallelism, "parallelism must be 0 (one per processor) or positive.");
        }

        Parallelism = parallelism == 0 ? Environment.ProcessorCount : parallelism;
        _workers = new Thread[Parallelism - 1];
        _start = new SemaphoreSlim[Parallelism - 1];
        for (var i = 0; i < _workers.Length; i++)
        {
            _start[i] = new SemaphoreSlim(0);
            var index = i;
            _workers[i] = new Thread(() => WorkerLoop(index)) { IsBackground = true, Name = $"dq-compute-{i + 1}" };
            _workers[i].Start();
        }
    }

    /// <summary>A pool that runs everything on the calling thread.</summary>
    public static ComputePool Serial { get; } = new(1);

    public int Parallelism { get; }

    /// <summary>Runs <paramref name="work"/> split into <paramref name="parts"/> pieces (at most <see cref="Parallelism"/>) and waits.</summary>
    internal void Run(IParallelWork work, int parts)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        parts = Math.Clamp(parts, 1, Parallelism);
        if (parts == 1)
        {
            work.Execute(0, 1);
            return;
        }

        _work = work;
        _parts = parts;
        _failure = null;
        Volatile.Write(ref _pending, parts - 1);
        for (var i = 0; i < parts - 1; i++)
        {
            _start[i].Release();
        }

        try
        {
            work.Execute(0, parts);
        }
        finally
        {
            // The workers still read the arguments, so the caller may not return (and unpin them) before they finish.
            WaitForWorkers();
            _work = null;
        }

        if (_failure is { } failure)
        {
            ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    // A short spin covers the usual case of a worker finishing at about the same time as the caller; then block on
    // a monitor, which (unlike ManualResetEventSlim's lazily created lock) allocates nothing the first time it waits.
    private void WaitForWorkers()
    {
        var spinner = default(SpinWait);
        while (Volatile.Read(ref _pending) > 0 && !spinner.NextSpinWillYield)
        {
            spinner.SpinOnce();
        }

        lock (_gate)
        {
            while (Volatile.Read(ref _pending) > 0)
            {
                Monitor.Wait(_gate);
            }
        }
    }

    private void WorkerLoop(int index)
    {
        while (true)
        {
            _start[index].Wait();
            if (_disposed)
            {
                return;
            }

            try
            {
                _work!.Execute(index + 1, _parts);
            }
            catch (Exception ex)
            {
                _failure = ex;
            }

            if (Interlocked.Decrement(ref _pending) == 0)
            {
                lock (_gate)
                {
                    Monitor.PulseAll(_gate);
                }
            }
        }
    }

    public void Dispose()
    {
        if (_disposed || ReferenceEquals(this, Serial))
        {
            return;
        }

        _disposed = true;
        foreach (var start in _start)
        {
            start.Release();
        }

        foreach (var worker in _workers)
        {
            worker.Join();
        }

        foreach (var start in _start)
        {
            start.Dispose();
        }
    }
}
