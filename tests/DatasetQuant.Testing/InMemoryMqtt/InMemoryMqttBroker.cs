using DatasetQuant.Mqtt;

namespace DatasetQuant.Testing.InMemoryMqtt;

/// <summary>
/// A broker in the test process: retained messages (an empty retained payload clears), <c>+</c>/<c>#</c> filters,
/// the last will on an abrupt close, one copy per matching session in publish order. <see cref="Deliver"/> lets a
/// test drop, duplicate, reorder or alter what one session receives; <see cref="PublishedBytes"/> counts traffic.
/// </summary>
public sealed class InMemoryMqttBroker
{
    private readonly object _gate = new();
    private readonly Dictionary<string, MqttMessage> _retained = new(StringComparer.Ordinal);
    private readonly List<InMemoryMqttConnection> _sessions = [];
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, long> _bytesByTopic = new(StringComparer.Ordinal);
    private long _publishedBytes;
    private long _publishedMessages;

    /// <summary>
    /// Called for each delivery to a session with (client id, message); returns what that session receives instead.
    /// Null (the default) delivers the message unchanged. Called under the broker's lock, in publish order.
    /// </summary>
    public Func<string, MqttMessage, IEnumerable<MqttMessage>>? Deliver { get; set; }

    /// <summary>Payload bytes accepted from publishers (each publish counted once, however many receive it).</summary>
    public long PublishedBytes => Interlocked.Read(ref _publishedBytes);

    /// <summary>Payload bytes published so far to topics matching <paramref name="topicFilter"/>.</summary>
    public long PublishedBytesTo(string topicFilter) =>
        _bytesByTopic.Where(t => MqttTopicFilter.Matches(topicFilter, t.Key)).Sum(t => t.Value);

    public long PublishedMessages => Interlocked.Read(ref _publishedMessages);

    public IReadOnlyDictionary<string, MqttMessage> Retained
    {
        get
        {
            lock (_gate)
            {
                return new Dictionary<string, MqttMessage>(_retained, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>Connects a session. A session with the same client id is taken over (closed without its will), as MQTT does.</summary>
    public InMemoryMqttConnection Connect(string clientId, MqttMessage? will = null)
    {
        var connection = new InMemoryMqttConnection(this, clientId, will);
        InMemoryMqttConnection? previous;
        lock (_gate)
        {
            previous = _sessions.Find(s => s.ClientId == clientId);
            if (previous is not null)
            {
                _sessions.Remove(previous);
            }

            _sessions.Add(connection);
        }

        previous?.Close("taken over by a new session with the same client id");
        return connection;
    }

    /// <summary>Delivers a message to one session only, whatever it subscribed to (for feeding it crafted input).</summary>
    public void SendTo(string clientId, MqttMessage message)
    {
        lock (_gate)
        {
            var session = _sessions.Find(s => s.ClientId == clientId)
                ?? throw new InvalidOperationException($"no session '{clientId}' is connected");
            session.Enqueue(message);
        }
    }

    internal void Publish(MqttMessage message)
    {
        if (message.Topic.Contains('+') || message.Topic.Contains('#') || message.Topic.Length == 0)
        {
            throw new MqttException($"invalid topic '{message.Topic}' for publish");
        }

        Interlocked.Add(ref _publishedBytes, message.Payload.Length);
        _bytesByTopic.AddOrUpdate(message.Topic, message.Payload.Length, (_, total) => total + message.Payload.Length);
        Interlocked.Increment(ref _publishedMessages);
        lock (_gate)
        {
            if (message.Retain)
            {
                if (message.Payload.IsEmpty)
                {
                    _retained.Remove(message.Topic);
                }
                else
                {
                    // The publisher may reuse its buffer once the publish completes.
                    _retained[message.Topic] = message with { Payload = message.Payload.ToArray() };
                }
            }

            // Subscribers see retain = false on live traffic, as MQTT 5 without retain-as-published does.
            // The broker's own copy (the publisher may reuse its buffer; Deliver hooks may hold messages); each session
            // then receives its own pooled copy of it.
            var live = message with { Retain = false, Payload = message.Payload.ToArray() };
            foreach (var session in _sessions)
            {
                if (session.IsSubscribedTo(message.Topic))
                {
                    Enqueue(session, live);
                }
            }
        }
    }

    internal void Subscribed(InMemoryMqttConnection session, string filter)
    {
        lock (_gate)
        {
            foreach (var retained in _retained.Values)
            {
                if (MqttTopicFilter.Matches(filter, retained.Topic))
                {
                    Enqueue(session, retained);
                }
            }
        }
    }

    internal void Disconnected(InMemoryMqttConnection session, MqttMessage? will)
    {
        lock (_gate)
        {
            if (!_sessions.Remove(session))
            {
                return;
            }
        }

        if (will is not null)
        {
            Publish(will);
        }
    }

    private void Enqueue(InMemoryMqttConnection session, MqttMessage message)
    {
        if (Deliver is null)
        {
            session.Enqueue(message);
            return;
        }

        foreach (var delivered in Deliver(session.ClientId, message))
        {
            session.Enqueue(delivered);
        }
    }
}
