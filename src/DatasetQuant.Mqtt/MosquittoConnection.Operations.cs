using DatasetQuant.Mqtt.Interop;

namespace DatasetQuant.Mqtt;

public sealed partial class MosquittoConnection
{
    /// <summary>
    /// Waits (in call order) for an in-flight slot, hands the message to libmosquitto and completes on PUBACK (QoS 1) or once the
    /// packet is written (QoS 0). A QoS 1 message published while the broker is away is sent when it comes back.
    /// Cancelling stops the wait, not a message that libmosquitto already holds.
    /// </summary>
    public async ValueTask PublishAsync(MqttMessage message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (string.IsNullOrEmpty(message.Topic) || message.Topic.AsSpan().IndexOfAny('+', '#') >= 0)
        {
            throw new ArgumentException($"Cannot publish to topic '{message.Topic}': a topic name is non-empty and has no wildcards.", nameof(message));
        }

        if (message.Qos is not (MqttQos.AtMostOnce or MqttQos.AtLeastOnce))
        {
            throw new ArgumentException($"Cannot publish to '{message.Topic}' with QoS {(int)message.Qos}: this client sends QoS 0 or 1.", nameof(message));
        }

        var reasonCode = await _publishes.Submit(message, cancellationToken).WaitAsync(cancellationToken).ConfigureAwait(false);
        if (reasonCode >= MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD)
        {
            throw new MqttException($"MQTT broker {_address} refused the message to '{message.Topic}': {MosquittoErrors.DescribeReason(reasonCode)}");
        }
    }

    /// <summary>Subscribes and completes on SUBACK; throws when the broker refuses or grants a lower QoS than asked.</summary>
    public async ValueTask SubscribeAsync(string topicFilter, MqttQos qos, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        if (qos is not (MqttQos.AtMostOnce or MqttQos.AtLeastOnce))
        {
            throw new ArgumentException($"Cannot subscribe to '{topicFilter}' with QoS {(int)qos}: this client takes QoS 0 or 1.", nameof(qos));
        }

        _subscriptions[topicFilter] = qos;
        int granted;
        try
        {
            granted = await SendSubscribe(topicFilter, qos, options: 0, _subscribes).WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (MqttException)
        {
            _subscriptions.TryRemove(topicFilter, out _);
            throw;
        }

        if (granted >= MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD || granted < (int)qos)
        {
            _subscriptions.TryRemove(topicFilter, out _);
            var why = granted >= MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD ? MosquittoErrors.DescribeReason(granted) : $"granted QoS {granted}, asked for {(int)qos}";
            throw new MqttException($"MQTT broker {_address} refused the subscription to '{topicFilter}': {why}");
        }
    }

    public async ValueTask UnsubscribeAsync(string topicFilter, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(topicFilter);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        _subscriptions.TryRemove(topicFilter, out _);
        await SendUnsubscribe(topicFilter).WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private unsafe Task<int> SendUnsubscribe(string topicFilter)
    {
        lock (_unsubscribes.Gate)
        {
            int mid;
            var rc = LibMosquitto.mosquitto_unsubscribe_v5(_handle, &mid, topicFilter, 0);
            ThrowIfFailed(rc, $"unsubscribe from '{topicFilter}'");
            return _unsubscribes.RegisterLocked(mid, topicFilter);
        }
    }

    /// <summary>
    /// Queues the packet in libmosquitto (which copies payload and properties). False when offline and the message
    /// can wait for the reconnect (QoS 1); a QoS 0 message fails instead, as it would be stale by then.
    /// </summary>
    private unsafe bool TrySendPublish(MqttMessage message, out int mid)
    {
        var properties = BuildProperties(message);
        try
        {
            int rc;
            fixed (int* messageId = &mid)
            fixed (byte* payload = message.Payload.Span)
            {
                rc = LibMosquitto.mosquitto_publish_v5(
                    _handle, messageId, message.Topic, message.Payload.Length, payload, (int)message.Qos, message.Retain, properties.Pointer);
            }

            if (rc == MosquittoConstants.MOSQ_ERR_NO_CONN && message.Qos == MqttQos.AtLeastOnce)
            {
                return false;
            }

            ThrowIfFailed(rc, $"publish {message.Payload.Length} bytes to '{message.Topic}'");
            return true;
        }
        finally
        {
            properties.Dispose();
        }
    }

    private unsafe Task<int> SendSubscribe(string topicFilter, MqttQos qos, int options, PendingAcknowledgements<int> pending)
    {
        lock (pending.Gate)
        {
            int mid;
            var rc = LibMosquitto.mosquitto_subscribe_v5(_handle, &mid, topicFilter, (int)qos, options, 0);
            ThrowIfFailed(rc, $"subscribe to '{topicFilter}'");
            return pending.RegisterLocked(mid, topicFilter);
        }
    }

    private static MosquittoPropertyList BuildProperties(MqttMessage message)
    {
        var properties = new MosquittoPropertyList();
        try
        {
            if (message.ContentType is { } contentType)
            {
                properties.AddString(MosquittoConstants.MQTT_PROP_CONTENT_TYPE, contentType, $"content type '{contentType}'");
            }

            if (message.MessageExpirySeconds is { } expiry)
            {
                properties.AddInt32(MosquittoConstants.MQTT_PROP_MESSAGE_EXPIRY_INTERVAL, expiry, "message expiry");
            }

            foreach (var (name, value) in message.UserProperties)
            {
                properties.AddStringPair(MosquittoConstants.MQTT_PROP_USER_PROPERTY, name, value, $"user property '{name}'");
            }

            return properties;
        }
        catch
        {
            properties.Dispose();
            throw;
        }
    }

    private void ThrowIfFailed(int rc, string what)
    {
        if (rc == MosquittoConstants.MOSQ_ERR_SUCCESS)
        {
            return;
        }

        var state = rc == MosquittoConstants.MOSQ_ERR_NO_CONN ? " while not connected" : string.Empty;
        throw new MqttException($"MQTT client '{ClientId}' could not {what} on {_address}{state}: {MosquittoErrors.Describe(rc)}");
    }
}
