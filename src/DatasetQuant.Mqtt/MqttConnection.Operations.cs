using System.Buffers;
using Microsoft.Extensions.Logging;
using MQTTnet;
using MQTTnet.Exceptions;
using MQTTnet.Packets;
using MQTTnet.Protocol;

namespace DatasetQuant.Mqtt;

public sealed partial class MqttConnection
{
    /// <summary>
    /// Waits (in call order) for an in-flight slot, sends, and completes on PUBACK (QoS 1) or once the packet is
    /// written (QoS 0). A QoS 1 message published while the broker is away is sent when it comes back. Cancelling
    /// stops the wait, not a message already on the wire.
    /// </summary>
    public async ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!MqttTopics.IsValidName(message.Topic))
        {
            throw new ArgumentException($"Cannot publish to topic '{message.Topic}': a topic name is non-empty and has no wildcards.", nameof(message));
        }

        if (message.Qos is not (MqttQos.AtMostOnce or MqttQos.AtLeastOnce))
        {
            throw new ArgumentException($"Cannot publish to '{message.Topic}' with QoS {(int)message.Qos}: this client sends QoS 0 or 1.", nameof(message));
        }

        var result = await _publishes.Submit(message, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        if ((int)result.ReasonCode >= MqttReasonCodes.FailureThreshold)
        {
            var why = MqttReasonCodes.Describe((int)result.ReasonCode) + (string.IsNullOrEmpty(result.ReasonString) ? string.Empty : $" ({result.ReasonString})");
            throw new MqttException($"MQTT broker {_address} refused the message to '{message.Topic}': {why}");
        }
    }

    /// <summary>Subscribes and completes on SUBACK; throws when the broker refuses or grants a lower QoS than asked.</summary>
    public async ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (!MqttTopics.IsValidFilter(topicFilter))
        {
            throw new MqttException($"MQTT client '{ClientId}' cannot subscribe to '{topicFilter}': not a valid topic filter ('+' and '#' stand alone in their level, '#' only last).");
        }

        if (qos is not (MqttQos.AtMostOnce or MqttQos.AtLeastOnce))
        {
            throw new ArgumentException($"Cannot subscribe to '{topicFilter}' with QoS {(int)qos}: this client takes QoS 0 or 1.", nameof(qos));
        }

        _subscriptions[topicFilter] = qos;
        int granted;
        try
        {
            granted = await SendSubscribeAsync(topicFilter, qos, MqttRetainHandling.SendAtSubscribe, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            _subscriptions.TryRemove(topicFilter, out _);
            throw;
        }

        if (granted >= MqttReasonCodes.FailureThreshold || granted < (int)qos)
        {
            _subscriptions.TryRemove(topicFilter, out _);
            var why = granted >= MqttReasonCodes.FailureThreshold ? MqttReasonCodes.Describe(granted) : $"granted QoS {granted}, asked for {(int)qos}";
            throw new MqttException($"MQTT broker {_address} refused the subscription to '{topicFilter}': {why}");
        }
    }

    public async ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _subscriptions.TryRemove(topicFilter, out _);
        try
        {
            await _client.UnsubscribeAsync(new MqttClientUnsubscribeOptions { TopicFilters = [topicFilter] }, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is MqttCommunicationException or MqttProtocolViolationException)
        {
            // MQTTnet reports a wait the caller cancelled as a timeout: a cancellation, not a failure.
            cancellationToken.ThrowIfCancellationRequested();
            throw OperationFailed($"unsubscribe from '{topicFilter}'", ex);
        }
    }

    /// <summary>Sends every subscription again; retained messages only come for ones the broker did not keep.</summary>
    private async Task ResubscribeAsync(CancellationToken cancellationToken)
    {
        foreach (var (filter, qos) in _subscriptions)
        {
            try
            {
                var granted = await SendSubscribeAsync(filter, qos, MqttRetainHandling.SendAtSubscribeIfNewSubscriptionOnly, cancellationToken).ConfigureAwait(false);
                if (granted >= MqttReasonCodes.FailureThreshold)
                {
                    _logger.LogError("MQTT client {ClientId} lost its subscription to '{Filter}' after reconnecting: {Reason}", ClientId, filter, MqttReasonCodes.Describe(granted));
                }
            }
            catch (MqttException ex)
            {
                _logger.LogError("MQTT client {ClientId} lost its subscription to '{Filter}' after reconnecting: {Reason}", ClientId, filter, ex.Message);
            }
        }
    }

    private async Task<int> SendSubscribeAsync(string topicFilter, MqttQos qos, MqttRetainHandling retainHandling, CancellationToken cancellationToken)
    {
        var options = new MqttClientSubscribeOptions
        {
            TopicFilters =
            [
                new MqttTopicFilter { Topic = topicFilter, QualityOfServiceLevel = (MqttQualityOfServiceLevel)qos, RetainHandling = retainHandling },
            ],
        };
        try
        {
            var result = await _client.SubscribeAsync(options, cancellationToken).ConfigureAwait(false);
            return (int)result.Items.Single().ResultCode;
        }
        catch (Exception ex) when (ex is MqttCommunicationException or MqttProtocolViolationException)
        {
            // MQTTnet reports a wait the caller cancelled as a timeout: a cancellation, not a failure.
            cancellationToken.ThrowIfCancellationRequested();
            throw OperationFailed($"subscribe to '{topicFilter}'", ex);
        }
    }

    /// <summary>Hands one message to MQTTnet (the payload is not copied); called in order under the publish window's lock.</summary>
    private Task<MqttClientPublishResult> SendPublish(MqttMessage message)
    {
        var applicationMessage = new MqttApplicationMessage
        {
            Topic = message.Topic,
            Payload = new ReadOnlySequence<byte>(message.Payload),
            QualityOfServiceLevel = (MqttQualityOfServiceLevel)message.Qos,
            Retain = message.Retain,
            ContentType = message.ContentType,
            MessageExpiryInterval = message.MessageExpirySeconds ?? 0,
            UserProperties = MqttNetClientOptions.ToUserProperties(message.UserProperties),
        };
        return _client.PublishAsync(applicationMessage, CancellationToken.None);
    }

    private Exception DescribePublishFailure(MqttMessage message, Exception error) => error switch
    {
        ObjectDisposedException when _disposed != 0 => error,
        _ when message.Qos == MqttQos.AtMostOnce && PublishWindow.IsConnectionLoss(error) && error is not MqttClientNotConnectedException =>
            new MqttException($"The connection to {_address} was lost before the QoS 0 message to '{message.Topic}' left; it may not have arrived.", error),
        _ => OperationFailed($"publish {message.Payload.Length} bytes to '{message.Topic}'", error),
    };

    private MqttException OperationFailed(string what, Exception error)
    {
        var state = error is MqttClientNotConnectedException ? " while not connected" : $": {Innermost(error).Message}";
        return new MqttException($"MQTT client '{ClientId}' could not {what} on {_address}{state}", error);
    }

    /// <summary>
    /// A received PUBLISH: its payload copied into a pooled buffer the reader returns by disposing the message, then
    /// queued for the reader. MQTTnet acknowledges it (QoS 1) when this returns, unless it found no place in the queue.
    /// </summary>
    private async Task OnMessageReceivedAsync(MqttApplicationMessageReceivedEventArgs e)
    {
        // The connection this message came on: if it ends while the message waits for room, stop waiting.
        var connectionClosed = _transport.Current?.Closed ?? CancellationToken.None;
        var received = e.ApplicationMessage;
        var payload = received.Payload;
        var message = MqttMessage.CreateReceived(
            received.Topic,
            payload.IsSingleSegment ? payload.FirstSpan : payload.ToArray(),
            (MqttQos)Math.Min((int)received.QualityOfServiceLevel, 1),
            received.Retain,
            _options.ReceiveBufferPool,
            received.ContentType,
            received.MessageExpiryInterval == 0 ? null : received.MessageExpiryInterval,
            ToKeyValuePairs(received.UserProperties));
        e.AutoAcknowledge = await _received.EnqueueAsync(message, connectionClosed).ConfigureAwait(false);
    }

    private static List<KeyValuePair<string, string>>? ToKeyValuePairs(List<MqttUserProperty>? properties)
    {
        if (properties is not { Count: > 0 })
        {
            return null;
        }

        var pairs = new List<KeyValuePair<string, string>>(properties.Count);
        foreach (var property in properties)
        {
            pairs.Add(new(property.Name, property.ReadValueAsString()));
        }

        return pairs;
    }
}
