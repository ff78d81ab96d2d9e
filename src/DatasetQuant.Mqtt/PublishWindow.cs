using System.Net.Sockets;
using MQTTnet;
using MQTTnet.Exceptions;

namespace DatasetQuant.Mqtt;

/// <summary>
/// At most <c>capacity</c> publishes on the wire and not yet acknowledged (QoS 1) or written (QoS 0); the rest wait
/// here and go out in the order they were submitted, so one producer's messages keep their order and memory held
/// for outgoing messages stays bounded. While the broker is away the window holds QoS 1 messages, including those the
/// lost connection never had acknowledged, and sends them again, oldest first, on <see cref="Resume"/>.
/// </summary>
/// <remarks>
/// <c>send</c> hands a message to MQTTnet and returns the task of its acknowledgement. It runs under this window's
/// lock, so the order of the calls is the order of the packets: MQTTnet takes its send lock, which is first come first
/// served, before the first await of its publish. Acknowledgements are handled on the thread pool, never inline, so
/// nothing re-enters the lock from within <c>send</c>.
/// </remarks>
internal sealed class PublishWindow(int capacity, PublishWindow.Send send, Func<MqttMessage, Exception, Exception> describeFailure)
{
    private readonly object _gate = new();
    private readonly PriorityQueue<Operation, long> _waiting = new();
    private readonly HashSet<Operation> _inFlight = [];
    private long _submitted;
    private bool _paused;
    private Exception? _closed;
    private TaskCompletionSource? _settled;

    /// <summary>Starts one publish; the returned task completes with the broker's answer (QoS 1) or once written (QoS 0).</summary>
    public delegate Task<MqttClientPublishResult> Send(MqttMessage message);

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

    /// <summary>Completes with the broker's answer once the message is acknowledged (QoS 1) or written (QoS 0).</summary>
    public Task<MqttClientPublishResult> Submit(MqttMessage message, CancellationToken cancellationToken)
    {
        Operation operation;
        lock (_gate)
        {
            if (_closed is not null)
            {
                return Task.FromException<MqttClientPublishResult>(_closed);
            }

            operation = new Operation(this, message, _submitted++);
            if (_paused && message.Qos == MqttQos.AtMostOnce)
            {
                // Offline: a QoS 0 message would be stale by the time the broker is back, so it fails now.
                return Task.FromException<MqttClientPublishResult>(describeFailure(message, new MqttClientNotConnectedException()));
            }

            if (!_paused && _waiting.Count == 0 && _inFlight.Count < capacity)
            {
                SendLocked(operation);
                return operation.Completion.Task;
            }

            // Registered under the lock, so that a send cannot come between queueing and registering.
            _waiting.Enqueue(operation, operation.Sequence);
            if (cancellationToken.CanBeCanceled)
            {
                operation.CancelRegistration = cancellationToken.Register(
                    static state => ((Operation)state!).Completion.TrySetCanceled(), operation);
            }
        }

        return operation.Completion.Task;
    }

    /// <summary>
    /// The connection was lost: nothing more is sent until <see cref="Resume"/>. Completes once every publish that was
    /// on the lost connection has settled (acknowledged, failed, or queued again to be resent).
    /// </summary>
    public Task Suspend()
    {
        lock (_gate)
        {
            _paused = true;
            if (_inFlight.Count == 0)
            {
                return Task.CompletedTask;
            }

            _settled ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _settled.Task;
        }
    }

    /// <summary>The session is connected again: send what waited, oldest first.</summary>
    public void Resume()
    {
        lock (_gate)
        {
            _paused = false;
            Refill();
        }
    }

    /// <summary>Fails everything, in flight or waiting; nothing is sent after this.</summary>
    public void Close(Exception error)
    {
        lock (_gate)
        {
            _closed = error;
            foreach (var operation in _inFlight)
            {
                operation.Completion.TrySetException(error);
            }

            while (_waiting.TryDequeue(out var operation, out _))
            {
                operation.Finish();
                operation.Completion.TrySetException(error);
            }

            _inFlight.Clear();
            _settled?.TrySetResult();
        }
    }

    private void Refill()
    {
        while (!_paused && _closed is null && _inFlight.Count < capacity && _waiting.TryDequeue(out var next, out _))
        {
            if (!next.Completion.Task.IsCompleted)
            {
                SendLocked(next);
            }
        }
    }

    private void SendLocked(Operation operation)
    {
        Task<MqttClientPublishResult> sent;
        try
        {
            sent = send(operation.Message);
        }
        catch (MqttClientNotConnectedException) when (operation.Message.Qos == MqttQos.AtLeastOnce)
        {
            // Offline between the loss and its event: this one, and everything after it, waits for the reconnect.
            _paused = true;
            _waiting.Enqueue(operation, operation.Sequence);
            return;
        }
        catch (Exception ex)
        {
            operation.Finish();
            operation.Completion.TrySetException(describeFailure(operation.Message, ex));
            return;
        }

        // From here on the message is MQTTnet's: cancelling the caller's wait must not mark it cancelled.
        operation.Finish();
        _inFlight.Add(operation);
        _ = sent.ContinueWith(
            static (task, state) => ((Operation)state!).Window.OnSent(task, (Operation)state!),
            operation,
            CancellationToken.None,
            TaskContinuationOptions.None,
            TaskScheduler.Default);
    }

    private void OnSent(Task<MqttClientPublishResult> sent, Operation operation)
    {
        lock (_gate)
        {
            if (!_inFlight.Remove(operation))
            {
                // Closed meanwhile: already failed.
                return;
            }

            if (sent.IsCompletedSuccessfully)
            {
                operation.Completion.TrySetResult(sent.Result);
            }
            else
            {
                var error = sent.Exception?.GetBaseException() ?? new OperationCanceledException();
                if (IsConnectionLoss(error) && operation.Message.Qos == MqttQos.AtLeastOnce)
                {
                    // At least once: the lost connection may or may not have delivered it, so it goes again.
                    _paused = true;
                    _waiting.Enqueue(operation, operation.Sequence);
                }
                else
                {
                    operation.Completion.TrySetException(describeFailure(operation.Message, error));
                }
            }

            if (_inFlight.Count == 0 && _settled is { } settled)
            {
                _settled = null;
                settled.TrySetResult();
            }

            Refill();
        }
    }

    /// <summary>What MQTTnet fails a pending publish with when its connection ends.</summary>
    internal static bool IsConnectionLoss(Exception error) =>
        error is MqttCommunicationException or ObjectDisposedException or OperationCanceledException or IOException or SocketException;

    private sealed class Operation(PublishWindow window, MqttMessage message, long sequence)
    {
        public PublishWindow Window { get; } = window;

        public MqttMessage Message { get; } = message;

        /// <summary>Submission order: a message sent again goes before everything submitted after it.</summary>
        public long Sequence { get; } = sequence;

        public TaskCompletionSource<MqttClientPublishResult> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration CancelRegistration { get; set; }

        public void Finish() => CancelRegistration.Dispose();
    }
}
