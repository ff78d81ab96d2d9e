using System.Threading.Channels;

namespace DatasetQuant.Agent.FineTuning;

/// <summary>
/// The queue of fine-tune requests. It holds one: a request arriving while one waits is merged into it, because one
/// run covers all the data there is when it starts.
/// </summary>
public sealed class FineTuneRequests
{
    private readonly Channel<FineTuneTrigger> _pending = Channel.CreateUnbounded<FineTuneTrigger>(
        new UnboundedChannelOptions { SingleReader = true });

    private int _waiting;
    private int _merged;

    /// <summary>How many requests were merged into one already waiting.</summary>
    public int Merged => Volatile.Read(ref _merged);

    /// <returns>False when the request was merged into one already waiting.</returns>
    public bool Request(FineTuneTrigger trigger)
    {
        if (Interlocked.CompareExchange(ref _waiting, 1, 0) != 0)
        {
            Interlocked.Increment(ref _merged);
            return false;
        }

        _pending.Writer.TryWrite(trigger);
        return true;
    }

    /// <summary>Waits for the next request; requests made after this returns queue a new run.</summary>
    public async ValueTask<FineTuneTrigger> TakeAsync(CancellationToken cancellationToken)
    {
        var trigger = await _pending.Reader.ReadAsync(cancellationToken);
        Volatile.Write(ref _waiting, 0);
        return trigger;
    }
}
