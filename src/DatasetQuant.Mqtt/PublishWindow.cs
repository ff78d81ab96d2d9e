namespace DatasetQuant.Mqtt;

/// <summary>
/// At most <c>capacity</c> publishes handed to libmosquitto and not yet acknowledged (QoS 1) or written (QoS 0); the
/// rest wait here and go out in the order they were submitted, so one producer's messages keep their order and the
/// native queue stays bounded. The network thread refills the window as acknowledgements arrive. libmosquitto
/// refuses new messages while the broker is away; then the window holds them (QoS 1) until <see cref="Resume"/>.
/// </summary>
/// <remarks>
/// <c>trySend</c> queues a packet and returns its message id, or returns false when not connected (it throws
/// instead for a message that must not wait, such as QoS 0). It runs under this window's lock, and the network thread
/// takes the same lock to complete ids; that cannot deadlock because libmosquitto runs its callbacks holding only its
/// callback mutex, which the queueing calls never take. Holding the lock across the call closes the race where an
/// acknowledgement arrives before the id is recorded.
/// </remarks>
internal sealed class PublishWindow(int capacity, PublishWindow.TrySend trySend)
{
    private readonly object _gate = new();
    private readonly Dictionary<int, Operation> _inFlight = [];
    private readonly LinkedList<Operation> _waiting = new();
    private bool _paused;
    private Exception? _closed;

    public delegate bool TrySend(MqttMessage message, out int mid);

    public int InFlight
    {
        get
        {
            lock (_gate)
            {
                return _inFlight.Count;
            }
        }
    }

    /// <summary>Completes with the broker's reason code once the message is acknowledged or written.</summary>
    public Task<int> Submit(MqttMessage message, CancellationToken cancellationToken)
    {
        var operation = new Operation(message);
        lock (_gate)
        {
            if (_closed is not null)
            {
                return Task.FromException<int>(_closed);
            }

            // Throws straight to the caller when libmosquitto refuses the message.
            if (!_paused && _waiting.Count == 0 && _inFlight.Count < capacity && Send(operation))
            {
                return operation.Completion.Task;
            }

            _waiting.AddLast(operation);
        }

        if (cancellationToken.CanBeCanceled)
        {
            operation.CancelRegistration = cancellationToken.Register(
                static state => ((Operation)state!).Completion.TrySetCanceled(), operation);
        }

        return operation.Completion.Task;
    }

    /// <summary>The broker answered <paramref name="mid"/> (or libmosquitto wrote a QoS 0 packet).</summary>
    public void Complete(int mid, int reasonCode)
    {
        lock (_gate)
        {
            if (_inFlight.Remove(mid, out var operation))
            {
                operation.Finish();
                operation.Completion.TrySetResult(reasonCode);
            }

            Refill();
        }
    }

    /// <summary>The session is connected again: send what waited.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _paused = false;
            Refill();
        }
    }

    /// <summary>Fails the in-flight messages <paramref name="lost"/> selects, whose packets libmosquitto dropped.</summary>
    public void FailInFlight(Func<MqttMessage, bool> lost, Func<MqttMessage, Exception> error)
    {
        lock (_gate)
        {
            foreach (var (mid, operation) in _inFlight)
            {
                if (lost(operation.Message))
                {
                    _inFlight.Remove(mid);
                    operation.Finish();
                    operation.Completion.TrySetException(error(operation.Message));
                }
            }

            Refill();
        }
    }

    /// <summary>Fails everything, in flight or waiting; nothing is sent after this.</summary>
    public void Close(Exception error)
    {
        lock (_gate)
        {
            foreach (var operation in _inFlight.Values.Concat(_waiting))
            {
                operation.Finish();
                operation.Completion.TrySetException(error);
            }

            _inFlight.Clear();
            _waiting.Clear();
            _closed = error;
        }
    }

    private void Refill()
    {
        while (!_paused && _closed is null && _inFlight.Count < capacity && _waiting.First is { } node)
        {
            var next = node.Value;
            _waiting.RemoveFirst();
            if (next.Completion.Task.IsCompleted)
            {
                continue;
            }

            try
            {
                if (!Send(next))
                {
                    _waiting.AddFirst(next);
                }
            }
            catch (Exception ex)
            {
                next.Finish();
                next.Completion.TrySetException(ex);
            }
        }
    }

    /// <summary>True when libmosquitto took the message; false (and paused) when the session is offline.</summary>
    private bool Send(Operation operation)
    {
        if (!trySend(operation.Message, out var mid))
        {
            _paused = true;
            return false;
        }

        _inFlight.Add(mid, operation);
        return true;
    }

    private sealed class Operation(MqttMessage message)
    {
        public MqttMessage Message { get; } = message;

        public TaskCompletionSource<int> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration CancelRegistration { get; set; }

        /// <summary>Once libmosquitto holds the message, cancelling the caller's wait must not mark it cancelled.</summary>
        public void Finish() => CancelRegistration.Dispose();
    }
}
