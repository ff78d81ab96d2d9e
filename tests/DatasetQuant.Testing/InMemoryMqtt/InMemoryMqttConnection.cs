using System.Collections.Concurrent;
using System.Threading.Channels;
using DatasetQuant.Mqtt;

namespace DatasetQuant.Testing.InMemoryMqtt;

/// <summary>
/// One session on an <see cref="InMemoryMqttBroker"/>. <see cref="DisposeAsync"/> is a clean disconnect (no will);
/// <see cref="Abort"/> is a dropped connection (the broker publishes the will).
/// </summary>
public sealed class InMemoryMqttConnection : IMqttConnection
{
    private readonly InMemoryMqttBroker _broker;
    private readonly MqttMessage? _will;
    private readonly Channel<MqttMessage> _messages = Channel.CreateUnbounded<MqttMessage>(new UnboundedChannelOptions { SingleReader = false });
    private readonly ConcurrentDictionary<string, byte> _filters = new(StringComparer.Ordinal);
    private int _closed;

    internal InMemoryMqttConnection(InMemoryMqttBroker broker, string clientId, MqttMessage? will)
    {
        _broker = broker;
        ClientId = clientId;
        _will = will;
    }

    public string ClientId { get; }

    public bool IsConnected => Volatile.Read(ref _closed) == 0;

    public ChannelReader<MqttMessage> Messages => _messages.Reader;

    public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    public ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfClosed();
        _broker.Publish(message);
        return ValueTask.CompletedTask;
    }

    public ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        ThrowIfClosed();
        MqttTopicFilter.Validate(topicFilter);
        _filters[topicFilter] = 0;
        _broker.Subscribed(this, topicFilter);
        return ValueTask.CompletedTask;
    }

    public ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ThrowIfClosed();
        _filters.TryRemove(topicFilter, out _);
        return ValueTask.CompletedTask;
    }

    /// <summary>Drops the connection as a crash or a network loss would: the broker publishes the will.</summary>
    public void Abort()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _broker.Disconnected(this, _will);
            _messages.Writer.TryComplete();
            StateChanged?.Invoke(this, new MqttConnectionStateChangedEventArgs(false, "connection aborted"));
        }
    }

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _broker.Disconnected(this, will: null);
            _messages.Writer.TryComplete();
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Whether a message on <paramref name="topic"/> would reach this session now.</summary>
    public bool IsSubscribedTo(string topic)
    {
        foreach (var filter in _filters.Keys)
        {
            if (MqttTopicFilter.Matches(filter, topic))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Delivers a copy in a pooled buffer, as an MqttConnection does: the reader owns it and disposes it, and
    /// no two sessions (or the publisher) share payload memory.
    /// </summary>
    internal void Enqueue(MqttMessage message)
    {
        var received = MqttMessage.CreateReceived(
            message.Topic, message.Payload.Span, message.Qos, message.Retain, pool: null, message.ContentType, message.MessageExpirySeconds, message.UserProperties);
        if (!_messages.Writer.TryWrite(received))
        {
            received.Dispose();
        }
    }

    internal void Close(string reason)
    {
        if (Interlocked.Exchange(ref _closed, 1) == 0)
        {
            _messages.Writer.TryComplete();
            StateChanged?.Invoke(this, new MqttConnectionStateChangedEventArgs(false, reason));
        }
    }

    private void ThrowIfClosed()
    {
        if (Volatile.Read(ref _closed) != 0)
        {
            throw new MqttException($"session '{ClientId}' is closed");
        }
    }
}
