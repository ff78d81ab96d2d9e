using System.Runtime.InteropServices;
using DatasetQuant.Mqtt.Interop;
using Microsoft.Extensions.Logging;

namespace DatasetQuant.Mqtt;

/// <summary>
/// libmosquitto's callbacks. They run on its network thread; each trampoline finds its connection through the
/// GCHandle passed as user data and catches everything, since an exception must never unwind into C.
/// </summary>
public sealed partial class MosquittoConnection
{
    [UnmanagedCallersOnly]
    private static void OnConnectTrampoline(nint mosq, nint userData, int reasonCode, int flags, nint properties) =>
        Dispatch(userData, static (c, a) => c.OnConnect(a.ReasonCode, a.Flags), (ReasonCode: reasonCode, Flags: flags));

    [UnmanagedCallersOnly]
    private static void OnDisconnectTrampoline(nint mosq, nint userData, int rc, nint properties) =>
        Dispatch(userData, static (c, rc) => c.OnDisconnect(rc), rc);

    [UnmanagedCallersOnly]
    private static void OnPublishTrampoline(nint mosq, nint userData, int mid, int reasonCode, nint properties) =>
        Dispatch(userData, static (c, a) => c.OnPublish(a.Mid, a.ReasonCode), (Mid: mid, ReasonCode: reasonCode));

    [UnmanagedCallersOnly]
    private static unsafe void OnMessageTrampoline(nint mosq, nint userData, MosquittoMessage* message, nint properties) =>
        Dispatch(userData, static (c, a) => c.OnMessage((MosquittoMessage*)a.Message, a.Properties), (Message: (nint)message, Properties: properties));

    [UnmanagedCallersOnly]
    private static unsafe void OnSubscribeTrampoline(nint mosq, nint userData, int mid, int qosCount, int* grantedQos, nint properties) =>
        Dispatch(userData, static (c, a) => c.OnSubscribe(a.Mid, a.Count > 0 ? ((int*)a.Granted)[0] : MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD), (Mid: mid, Count: qosCount, Granted: (nint)grantedQos));

    [UnmanagedCallersOnly]
    private static void OnUnsubscribeTrampoline(nint mosq, nint userData, int mid, nint properties) =>
        Dispatch(userData, static (c, mid) => c.OnUnsubscribe(mid), mid);

    [UnmanagedCallersOnly]
    private static unsafe void OnLogTrampoline(nint mosq, nint userData, int level, byte* text) =>
        Dispatch(userData, static (c, a) => c.OnLog(a.Level, Marshal.PtrToStringUTF8(a.Text) ?? string.Empty), (Level: level, Text: (nint)text));

    private static void Dispatch<TArgs>(nint userData, Action<MosquittoConnection, TArgs> handler, TArgs args)
    {
        MosquittoConnection? connection = null;
        try
        {
            connection = GCHandle.FromIntPtr(userData).Target as MosquittoConnection;
            if (connection is not null)
            {
                handler(connection, args);
            }
        }
        catch (Exception ex)
        {
            try
            {
                connection?._logger.LogError(ex, "MQTT callback failed for client {ClientId}", connection.ClientId);
            }
            catch (Exception)
            {
                // A failing logger must not take the network thread down either.
            }
        }
    }

    private void OnConnect(int reasonCode, int flags)
    {
        if (reasonCode != MosquittoConstants.MOSQ_ERR_SUCCESS)
        {
            var refused = $"MQTT broker {_address} refused the connection of '{ClientId}': {MosquittoErrors.DescribeReason(reasonCode)}";
            _logger.LogWarning("{Reason}", refused);
            _firstConnack.TrySetException(new MqttException(refused));
            return;
        }

        _sessionPresent = (flags & MosquittoConstants.CONNACK_SESSION_PRESENT) != 0;
        _isConnected = true;
        var reconnect = _firstConnack.Task.IsCompleted;
        Resubscribe();
        _publishes.Resume();
        _firstConnack.TrySetResult(_sessionPresent);
        var reason = $"{(reconnect ? "reconnected to" : "connected to")} {_address}{(_sessionPresent ? " (session resumed)" : string.Empty)}";
        _logger.LogInformation("MQTT client {ClientId} {Reason}", ClientId, reason);
        RaiseStateChanged(true, reason);
    }

    /// <summary>Sends every subscription again; retained messages only come for ones the broker did not keep.</summary>
    private void Resubscribe()
    {
        foreach (var (filter, qos) in _subscriptions)
        {
            var granted = SendSubscribe(filter, qos, MosquittoConstants.MQTT_SUB_OPT_SEND_RETAIN_NEW, _subscribes);
            _ = granted.ContinueWith(
                (task, state) => ((MosquittoConnection)state!).ReportResubscribe(task),
                this,
                CancellationToken.None,
                TaskContinuationOptions.ExecuteSynchronously,
                TaskScheduler.Default);
        }
    }

    private void ReportResubscribe(Task<int> granted)
    {
        var filter = (string)granted.AsyncState!;
        if (granted.IsCompletedSuccessfully && granted.Result < MosquittoConstants.MQTT_RC_FAILURE_THRESHOLD)
        {
            return;
        }

        var why = granted.IsCompletedSuccessfully ? MosquittoErrors.DescribeReason(granted.Result) : granted.Exception?.GetBaseException().Message;
        _logger.LogError("MQTT client {ClientId} lost its subscription to '{Filter}' after reconnecting: {Reason}", ClientId, filter, why);
    }

    private void OnDisconnect(int rc)
    {
        var wasConnected = _isConnected;
        _isConnected = false;
        var reason = rc == MosquittoConstants.MOSQ_ERR_SUCCESS ? "disconnected" : MosquittoErrors.DescribeDisconnect(rc) + LastLibraryError();
        if (!_firstConnack.Task.IsCompleted)
        {
            _firstConnack.TrySetException(new MqttException($"MQTT broker {_address} closed the connection of '{ClientId}' before accepting it: {reason}{TlsHint()}"));
        }

        // libmosquitto drops QoS 0 packets it had not written; QoS 1 ones stay queued and are sent again.
        _publishes.FailInFlight(
            static message => message.Qos == MqttQos.AtMostOnce,
            message => new MqttException($"The connection to {_address} was lost before the QoS 0 message to '{message.Topic}' left; it may not have arrived."));

        if (wasConnected)
        {
            // rc 0 is the disconnect this client asked for (dispose); anything else is a loss worth a warning.
            if (rc == MosquittoConstants.MOSQ_ERR_SUCCESS)
            {
                _logger.LogInformation("MQTT client {ClientId} disconnected from {Broker}", ClientId, _address);
            }
            else
            {
                _logger.LogWarning("MQTT client {ClientId} lost {Broker}: {Reason}", ClientId, _address, reason);
            }

            RaiseStateChanged(false, reason);
        }
    }

    private void OnPublish(int mid, int reasonCode)
    {
        _publishes.Complete(mid, reasonCode);
    }

    private unsafe void OnMessage(MosquittoMessage* native, nint properties)
    {
        // libmosquitto frees its copy when the callback returns, so the payload goes into a pooled buffer that the
        // consumer returns by disposing the message (no large-object-heap array per 128 KiB chunk). The topic and
        // content type strings of the previous message are reused when they repeat.
        var topic = TopicOf(native->Topic);
        _received.Read(properties);
        var message = MqttMessage.CreateReceived(
            topic,
            new ReadOnlySpan<byte>((void*)native->Payload, native->PayloadLength),
            (MqttQos)Math.Min(native->Qos, 1),
            native->Retain,
            _options.ReceiveBufferPool,
            _received.ContentType,
            _received.MessageExpirySeconds,
            _received.UserProperties);
        if (!_messages.Writer.TryWrite(message))
        {
            // The session is closed: nobody will read it.
            message.Dispose();
        }
    }

    private unsafe string TopicOf(nint native)
    {
        if (native == 0)
        {
            return string.Empty;
        }

        var utf8 = MemoryMarshal.CreateReadOnlySpanFromNullTerminated((byte*)native);
        if (_lastTopic is null || !ReceivedProperties.Utf8Equals(utf8, _lastTopic))
        {
            _lastTopic = System.Text.Encoding.UTF8.GetString(utf8);
        }

        return _lastTopic;
    }

    private void OnSubscribe(int mid, int grantedQos)
    {
        if (_subscribes.TryTake(mid, out var waiter))
        {
            waiter!.TrySetResult(grantedQos);
        }
    }

    private void OnUnsubscribe(int mid)
    {
        if (_unsubscribes.TryTake(mid, out var waiter))
        {
            waiter!.TrySetResult(0);
        }
    }

    private void OnLog(int level, string text)
    {
        if ((level & (MosquittoConstants.MOSQ_LOG_ERR | MosquittoConstants.MOSQ_LOG_WARNING)) != 0)
        {
            _lastLibraryError = text;
            _logger.LogWarning("libmosquitto ({ClientId}): {Text}", ClientId, text);
        }
        else
        {
            _logger.LogDebug("libmosquitto ({ClientId}): {Text}", ClientId, text);
        }
    }

    private void RaiseStateChanged(bool isConnected, string reason)
    {
        try
        {
            StateChanged?.Invoke(this, new MqttConnectionStateChangedEventArgs(isConnected, reason));
        }
        catch (Exception ex)
        {
            _logger.LogError(ex, "A StateChanged handler of MQTT client {ClientId} threw", ClientId);
        }
    }
}
