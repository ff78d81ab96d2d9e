namespace DatasetQuant.Mqtt;

/// <summary>
/// Operations libmosquitto identified by message id, waiting for the broker's answer. libmosquitto returns the id
/// from the call that queues the packet, and its network thread may read the answer before that call returns; so
/// the caller holds <see cref="Gate"/> across the native call and <see cref="RegisterLocked"/>, and the network
/// thread takes the same lock in <see cref="TryTake"/>. That is deadlock-free because libmosquitto runs these
/// callbacks holding only its callback mutex, which the queueing calls never take.
/// </summary>
internal sealed class PendingAcknowledgements<TResult>
{
    private readonly Dictionary<int, TaskCompletionSource<TResult>> _waiting = [];

    public object Gate { get; } = new();

    public int Count
    {
        get
        {
            lock (Gate)
            {
                return _waiting.Count;
            }
        }
    }

    /// <summary>Starts waiting for <paramref name="mid"/>; the caller holds <see cref="Gate"/>.</summary>
    public Task<TResult> RegisterLocked(int mid, object? state = null)
    {
        var completion = new TaskCompletionSource<TResult>(state, TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[mid] = completion;
        return completion.Task;
    }

    /// <summary>The waiter for <paramref name="mid"/>, removed; false for an answer nobody waits on.</summary>
    public bool TryTake(int mid, out TaskCompletionSource<TResult>? completion)
    {
        lock (Gate)
        {
            return _waiting.Remove(mid, out completion);
        }
    }

    /// <summary>Removes and returns every waiter.</summary>
    public List<TaskCompletionSource<TResult>> Drain()
    {
        lock (Gate)
        {
            var drained = _waiting.Values.ToList();
            _waiting.Clear();
            return drained;
        }
    }
}
