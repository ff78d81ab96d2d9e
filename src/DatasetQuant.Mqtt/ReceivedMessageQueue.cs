using System.Diagnostics.CodeAnalysis;
using System.Threading.Channels;

namespace DatasetQuant.Mqtt;

/// <summary>
/// What a session received and its reader has not taken yet: at most <c>capacity</c> messages. A message that finds
/// the queue full waits for the reader, and since the session acknowledges a QoS 1 message only once it is queued,
/// the broker stops sending at the session's Receive Maximum and keeps the rest of the backlog itself.
/// </summary>
/// <remarks>
/// When the connection ends while a message waits for room, the message is queued anyway, unacknowledged, so that
/// MQTTnet can finish with that connection and the session can reconnect; the queue then holds at most the Receive
/// Maximum more than its capacity, until the reader catches up. (QoS 0 messages have no acknowledgement, so MQTT gives
/// a receiver no way to slow them: the product subscribes with QoS 1.)
/// </remarks>
internal sealed class ReceivedMessageQueue
{
    private readonly Channel<MqttMessage> _channel = Channel.CreateUnbounded<MqttMessage>(
        new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
    private readonly SemaphoreSlim _room;

    // Messages queued without a slot (the connection ended while they waited); the reader takes them before it frees slots.
    private int _overdrawn;

    public ReceivedMessageQueue(int capacity)
    {
        _room = new SemaphoreSlim(capacity, capacity);
        Reader = new QueueReader(this);
    }

    /// <summary>The reader's side: taking a message frees its place.</summary>
    public ChannelReader<MqttMessage> Reader { get; }

    /// <summary>
    /// Queues <paramref name="message"/> once there is room. True when it took a place in the queue (acknowledge it);
    /// false when it was queued beyond capacity because <paramref name="connectionClosed"/> fired, or dropped because
    /// the queue is completed (do not acknowledge: the connection or the session is gone).
    /// </summary>
    public async ValueTask<bool> EnqueueAsync(MqttMessage message, CancellationToken connectionClosed)
    {
        var placed = _room.Wait(0);
        if (!placed)
        {
            try
            {
                await _room.WaitAsync(connectionClosed).ConfigureAwait(false);
                placed = true;
            }
            catch (OperationCanceledException)
            {
                Interlocked.Increment(ref _overdrawn);
            }
        }

        if (_channel.Writer.TryWrite(message))
        {
            return placed;
        }

        // Completed: the session is closed and nobody will read it.
        message.Dispose();
        return false;
    }

    /// <summary>Ends the queue: readers still get what is in it, then see it completed.</summary>
    public void Complete() => _channel.Writer.TryComplete();

    private void Taken()
    {
        while (true)
        {
            var overdrawn = Volatile.Read(ref _overdrawn);
            if (overdrawn == 0)
            {
                _room.Release();
                return;
            }

            if (Interlocked.CompareExchange(ref _overdrawn, overdrawn - 1, overdrawn) == overdrawn)
            {
                return;
            }
        }
    }

    private sealed class QueueReader(ReceivedMessageQueue queue) : ChannelReader<MqttMessage>
    {
        private readonly ChannelReader<MqttMessage> _inner = queue._channel.Reader;

        public override Task Completion => _inner.Completion;

        public override bool CanCount => true;

        public override int Count => _inner.Count;

        public override bool CanPeek => true;

        public override bool TryRead([MaybeNullWhen(false)] out MqttMessage item)
        {
            if (!_inner.TryRead(out item))
            {
                return false;
            }

            queue.Taken();
            return true;
        }

        public override bool TryPeek([MaybeNullWhen(false)] out MqttMessage item) => _inner.TryPeek(out item);

        public override ValueTask<bool> WaitToReadAsync(CancellationToken cancellationToken = default) =>
            _inner.WaitToReadAsync(cancellationToken);
    }
}
