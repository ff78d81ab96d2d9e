using System.Threading.Channels;
using DatasetQuant.Mqtt;

namespace DatasetQuant.Coordinator.Hosting;

/// <summary>
/// Passes everything to the session it wraps and counts what is published through it, so the coordinator can
/// record what a broadcast cost without the protocol code knowing about the store.
/// </summary>
public sealed class PublishMeter(IMqttConnection inner) : IMqttConnection
{
    private long _messages;
    private long _payloadBytes;

    public long Messages => Interlocked.Read(ref _messages);

    public long PayloadBytes => Interlocked.Read(ref _payloadBytes);

    public string ClientId => inner.ClientId;

    public bool IsConnected => inner.IsConnected;

    ChannelReader<MqttMessage> IMqttConnection.Messages => inner.Messages;

    public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged
    {
        add => inner.StateChanged += value;
        remove => inner.StateChanged -= value;
    }

    public async ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        await inner.PublishAsync(message, cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _messages);
        Interlocked.Add(ref _payloadBytes, message.Payload.Length);
    }

    public ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default) =>
        inner.SubscribeAsync(topicFilter, qos, cancellationToken);

    public ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default) =>
        inner.UnsubscribeAsync(topicFilter, cancellationToken);

    /// <summary>The wrapped session belongs to whoever created it; disposing the meter leaves it open.</summary>
    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
