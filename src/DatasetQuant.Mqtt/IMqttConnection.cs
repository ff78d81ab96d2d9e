using System.Threading.Channels;

namespace DatasetQuant.Mqtt;

/// <summary>
/// An MQTT 5 session as the sync protocol sees it: publish, subscribe, and a channel of what arrives. The protocol and
/// the agent depend on this alone; <see cref="MqttConnection"/> implements it over MQTTnet.
/// </summary>
public interface IMqttConnection : IAsyncDisposable
{
    /// <summary>The client identifier this session connected with.</summary>
    string ClientId { get; }

    /// <summary>True while the session is connected to the broker.</summary>
    bool IsConnected { get; }

    /// <summary>
    /// Messages that match this session's subscriptions, in the order the broker delivered them. Whoever reads a
    /// message owns it: its payload is a pooled buffer that <see cref="MqttMessage.Dispose"/> returns, so the reader
    /// disposes it once done with the payload (or hands it, and that duty, to one other owner). A message never
    /// disposed is simply collected.
    /// </summary>
    ChannelReader<MqttMessage> Messages { get; }

    /// <summary>Raised (on any thread) when the session connects or reconnects, and when it loses the broker.</summary>
    event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>
    /// Publishes and completes when the broker has acknowledged it (QoS 1) or the message has left (QoS 0).
    /// Throws <see cref="MqttException"/> when the broker refuses it or the session cannot deliver it.
    /// </summary>
    ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default);

    /// <summary>Subscribes and completes when the broker has granted it; re-subscribed after every reconnect.</summary>
    ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default);

    ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default);
}

public enum MqttQos : byte
{
    AtMostOnce = 0,
    AtLeastOnce = 1,
}

public sealed class MqttConnectionStateChangedEventArgs(bool isConnected, string reason) : EventArgs
{
    public bool IsConnected { get; } = isConnected;

    /// <summary>Why the state changed, as the broker or the library put it.</summary>
    public string Reason { get; } = reason;
}

/// <summary>An MQTT operation failed; the message says which and why (broker reason code or library error).</summary>
public sealed class MqttException : Exception
{
    public MqttException(string message)
        : base(message)
    {
    }

    public MqttException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
