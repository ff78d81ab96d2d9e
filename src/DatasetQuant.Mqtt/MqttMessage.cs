using System.Buffers;

namespace DatasetQuant.Mqtt;

/// <summary>
/// One application message. A message built with the constructor (to publish) holds the memory it was given and
/// <see cref="Dispose"/> does nothing. A received message (<see cref="CreateReceived"/>) holds its payload in a buffer
/// rented from a pool: <see cref="Dispose"/> returns that buffer exactly once (a <c>with</c> copy shares it, so
/// disposing either returns it), after which reading <see cref="Payload"/> throws <see cref="ObjectDisposedException"/>.
/// Nothing may keep <see cref="Payload"/>, or a slice or span of it, past <see cref="Dispose"/>: copy what must stay.
/// </summary>
public sealed record MqttMessage(
    string Topic,
    ReadOnlyMemory<byte> Payload,
    MqttQos Qos = MqttQos.AtLeastOnce,
    bool Retain = false) : IDisposable
{
    private readonly ReadOnlyMemory<byte> _payload = Payload;

    // Null for a message that does not own pooled memory. Replacing the payload (with { Payload = ... }) detaches it.
    private readonly ReceiveBuffer? _buffer;

    private MqttMessage(string topic, ReceiveBuffer buffer, int length, MqttQos qos, bool retain)
        : this(topic, buffer.Array.AsMemory(0, length), qos, retain)
    {
        _buffer = buffer;
    }

    /// <summary>The payload; throws <see cref="ObjectDisposedException"/> once a received message is disposed.</summary>
    public ReadOnlyMemory<byte> Payload
    {
        get
        {
            if (_buffer is { IsReturned: true })
            {
                throw new ObjectDisposedException(nameof(MqttMessage), $"The payload of the message received on '{Topic}' was returned to its pool when the message was disposed.");
            }

            return _payload;
        }

        init
        {
            _payload = value;
            _buffer = null;
        }
    }

    /// <summary>MQTT 5 content type property (for example <c>application/json</c>), or null.</summary>
    public string? ContentType { get; init; }

    /// <summary>MQTT 5 message expiry interval in seconds, or null for none.</summary>
    public uint? MessageExpirySeconds { get; init; }

    /// <summary>MQTT 5 user properties, in order; empty when none.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> UserProperties { get; init; } = [];

    /// <summary>Whether the payload is a pooled buffer that <see cref="Dispose"/> returns (a received message).</summary>
    public bool IsPooled => _buffer is not null;

    /// <summary>
    /// A received message: <paramref name="payload"/> copied into a buffer rented from <paramref name="pool"/>
    /// (<see cref="ReceiveBufferPool.Shared"/> when null), which <see cref="Dispose"/> returns. For transports:
    /// <see cref="MqttConnection"/> hands its reader these.
    /// </summary>
    public static MqttMessage CreateReceived(
        string topic,
        ReadOnlySpan<byte> payload,
        MqttQos qos,
        bool retain,
        ArrayPool<byte>? pool = null,
        string? contentType = null,
        uint? messageExpirySeconds = null,
        IReadOnlyList<KeyValuePair<string, string>>? userProperties = null)
    {
        if (payload.IsEmpty)
        {
            return new MqttMessage(topic, ReadOnlyMemory<byte>.Empty, qos, retain)
            {
                ContentType = contentType, MessageExpirySeconds = messageExpirySeconds, UserProperties = userProperties ?? [],
            };
        }

        var buffer = new ReceiveBuffer(pool ?? ReceiveBufferPool.Shared, payload.Length);
        payload.CopyTo(buffer.Array);
        return new MqttMessage(topic, buffer, payload.Length, qos, retain)
        {
            ContentType = contentType, MessageExpirySeconds = messageExpirySeconds, UserProperties = userProperties ?? [],
        };
    }

    /// <summary>Returns a pooled payload to its pool (once, whichever copy of the message disposes first).</summary>
    public void Dispose() => _buffer?.Return();

    /// <summary>A rented array and whether it went back to its pool; shared by a message and its <c>with</c> copies.</summary>
    private sealed class ReceiveBuffer(ArrayPool<byte> pool, int length)
    {
        private int _returned;

        public byte[] Array { get; } = pool.Rent(length);

        public bool IsReturned => Volatile.Read(ref _returned) != 0;

        public void Return()
        {
            if (Interlocked.Exchange(ref _returned, 1) == 0)
            {
                pool.Return(Array);
            }
        }
    }
}
