namespace DatasetQuant.Mqtt;

/// <summary>
/// At most <c>capacity</c> publishes handed to libmosquitto and not yet acknowledged (QoS 1) or written (QoS 0); the
/// rest wait here and go out in the order they were submitted, so one producer's messages keep their order and the
/// native queue stays bounded. The network thread refills the window as acknowledgements arrive.
/// </summary>
/// <remarks>
/// <c>send</c> queues a packet and returns its message id. It runs under this window's lock, and the network thread
/// takes the same lock to complete ids; that cannot deadlock because libmosquitto runs its callbacks holding only its
/// callback mutex, which the queueing calls never take. Holding the lock across the call closes the race where an
/// acknowledgement arrives before the id is recorded.
/// </remarks>
internal sealed class PublishWindow(int capacity, Func<MqttMessage, int> send)
{
    private readonly object _gate = new();
    private readonly Dictionary<int, Operation> _inFlight = [];
    private readonly Queue<Operation> _waiting = new();

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
            if (_waiting.Count == 0 && _inFlight.Count < capacity)
            {
                // Throws straight to the caller when libmosquitto refuses the message.
                _inFlight.Add(send(message), operation);
                return operation.Completion.Task;
            }

            _waiting.Enqueue(operation);
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
            capacity = 0;
        }
    }

    private void Refill()
    {
        while (_inFlight.Count < capacity && _waiting.TryDequeue(out var next))
        {
            if (next.Completion.Task.IsCompleted)
            {
                continue;
            }

            try
            {
                _inFlight.Add(send(next.Message), next);
            }
            catch (Exception ex)
            {
                next.Finish();
                next.Completion.TrySetException(ex);
            }
        }
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
