using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using DatasetQuant.Mqtt.Interop;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DatasetQuant.Mqtt;

/// <summary>
/// An MQTT 5 session over libmosquitto. libmosquitto's own thread (<c>mosquitto_loop_start</c>) does all network
/// work, reconnects with exponential backoff and resends unacknowledged QoS 1 messages; its callbacks complete the
/// tasks that <see cref="PublishAsync"/> and <see cref="SubscribeAsync"/> return and feed <see cref="Messages"/>.
/// </summary>
/// <remarks>
/// <see cref="Messages"/> is unbounded on purpose. Its writer is libmosquitto's only network thread: making that
/// thread wait for a slow reader would also stop PUBACKs and keep-alives, so a reader that publishes while it
/// reads (the coordinator answering repair pulls) would deadlock against its own acknowledgements, and the broker
/// would drop an idle-looking session. Dropping instead is not allowed either: libmosquitto has already acknowledged
/// every QoS 1 message it hands over. The backlog is bounded upstream by the publishers' in-flight limits and the
/// broker's per-session queue limits (max_queued_messages / max_queued_bytes); <see cref="QueuedMessages"/> shows it.
/// </remarks>
public sealed partial class MosquittoConnection : IMqttConnection
{
    private readonly MqttConnectionOptions _options;
    private readonly MqttBrokerAddress _address;
    private readonly ILogger _logger;
    private readonly MosquittoHandle _handle;
    private readonly Channel<MqttMessage> _messages;
    private readonly PublishWindow _publishes;
    private readonly PendingAcknowledgements<int> _subscribes = new();
    private readonly PendingAcknowledgements<int> _unsubscribes = new();
    private readonly ConcurrentDictionary<string, MqttQos> _subscriptions = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource<bool> _firstConnack = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Touched only on libmosquitto's network thread (the message callback).
    private readonly ReceivedProperties _received = new();
    private string? _lastTopic;
    private GCHandle _self;
    private volatile bool _isConnected;
    private volatile bool _sessionPresent;
    private volatile string? _lastLibraryError;
    private int _disposed;
    private bool _loopStarted;

    private MosquittoConnection(MqttConnectionOptions options, MqttBrokerAddress address, ILogger logger)
    {
        MosquittoLibrary.EnsureInitialized();
        _options = options;
        _address = address;
        _logger = logger;
        ClientId = options.ClientId ?? "dq-" + Guid.NewGuid().ToString("N")[..20];
        _messages = Channel.CreateUnbounded<MqttMessage>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });
        _publishes = new PublishWindow(options.MaxInFlight, TrySendPublish);
        _self = GCHandle.Alloc(this);
        try
        {
            _handle = MosquittoHandle.Create(ClientId, options.CleanStart, GCHandle.ToIntPtr(_self));
            Configure();
        }
        catch
        {
            _handle?.Dispose();
            _self.Free();
            throw;
        }
    }

    public string ClientId { get; }

    public bool IsConnected => _isConnected;

    /// <summary>Whether the broker resumed a kept session at the latest CONNACK.</summary>
    public bool SessionPresent => _sessionPresent;

    /// <summary>The broker this session talks to.</summary>
    public MqttBrokerAddress Broker => _address;

    public ChannelReader<MqttMessage> Messages => _messages.Reader;

    /// <summary>Received messages nobody has read from <see cref="Messages"/> yet.</summary>
    public int QueuedMessages => _messages.Reader.Count;

    /// <summary>Publishes handed to libmosquitto and not yet acknowledged or written; never above MaxInFlight.</summary>
    public int InFlight => _publishes.InFlight;

    public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>Connects and returns once the broker's CONNACK accepted the session; throws <see cref="MqttException"/> otherwise.</summary>
    public static async Task<MosquittoConnection> ConnectAsync(
        MqttConnectionOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Validate();
        var connection = new MosquittoConnection(options, address, logger ?? NullLogger.Instance);
        try
        {
            await connection.StartAsync(cancellationToken).ConfigureAwait(false);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private unsafe void Configure()
    {
        Check(LibMosquitto.mosquitto_int_option(_handle, MosquittoConstants.MOSQ_OPT_PROTOCOL_VERSION, MosquittoConstants.MQTT_PROTOCOL_V5), "select MQTT 5");

        // Small control packets (PUBACK, SUBSCRIBE) should not wait for Nagle; a library without the option still works.
        _ = LibMosquitto.mosquitto_int_option(_handle, MosquittoConstants.MOSQ_OPT_TCP_NODELAY, 1);
        Check(LibMosquitto.mosquitto_reconnect_delay_set(
            _handle, (uint)_options.ReconnectDelayMin.TotalSeconds, (uint)_options.ReconnectDelayMax.TotalSeconds, exponentialBackoff: true), "set the reconnect delay");
        Check(LibMosquitto.mosquitto_max_inflight_messages_set(_handle, (uint)_options.MaxInFlight), "set the in-flight limit");
        if (_options.Username is not null)
        {
            Check(LibMosquitto.mosquitto_username_pw_set(_handle, _options.Username, _options.Password), "set the username");
        }

        if (_address.UseTls)
        {
            Check(LibMosquitto.mosquitto_tls_set(_handle, _options.TlsCaFile, null, _options.TlsCertificateFile, _options.TlsKeyFile, 0),
                $"load TLS files (CA '{_options.TlsCaFile}', certificate '{_options.TlsCertificateFile}', key '{_options.TlsKeyFile}')");
        }

        if (_options.Will is { } will)
        {
            SetWill(will);
        }

        LibMosquitto.mosquitto_connect_v5_callback_set(_handle, &OnConnectTrampoline);
        LibMosquitto.mosquitto_disconnect_v5_callback_set(_handle, &OnDisconnectTrampoline);
        LibMosquitto.mosquitto_publish_v5_callback_set(_handle, &OnPublishTrampoline);
        LibMosquitto.mosquitto_message_v5_callback_set(_handle, &OnMessageTrampoline);
        LibMosquitto.mosquitto_subscribe_v5_callback_set(_handle, &OnSubscribeTrampoline);
        LibMosquitto.mosquitto_unsubscribe_v5_callback_set(_handle, &OnUnsubscribeTrampoline);
        LibMosquitto.mosquitto_log_callback_set(_handle, &OnLogTrampoline);
    }

    private unsafe void SetWill(MqttMessage will)
    {
        var properties = BuildProperties(will);
        try
        {
            fixed (byte* payload = will.Payload.Span)
            {
                Check(LibMosquitto.mosquitto_will_set_v5(_handle, will.Topic, will.Payload.Length, payload, (int)will.Qos, will.Retain, properties.Pointer),
                    $"set the will on '{will.Topic}'");
            }

            // On success the library owns the list.
            properties.Forget();
        }
        finally
        {
            properties.Dispose();
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        var properties = new MosquittoPropertyList();
        try
        {
            if (_options.SessionExpiry > TimeSpan.Zero)
            {
                properties.AddInt32(MosquittoConstants.MQTT_PROP_SESSION_EXPIRY_INTERVAL, (uint)_options.SessionExpiry.TotalSeconds, "session expiry");
            }

            // The TCP (and TLS) connect blocks; keep it off the caller's thread. libmosquitto keeps a copy of the
            // properties and sends them again on every reconnect.
            var propertyList = properties.Pointer;
            var (rc, errno) = await Task.Run(
                () =>
                {
                    var result = LibMosquitto.mosquitto_connect_bind_v5(
                        _handle, _address.Host, _address.Port, (int)_options.KeepAlive.TotalSeconds, null, propertyList);
                    return (result, Marshal.GetLastPInvokeError());
                },
                cancellationToken).ConfigureAwait(false);
            if (rc != MosquittoConstants.MOSQ_ERR_SUCCESS)
            {
                throw new MqttException($"Cannot connect to MQTT broker {_address}: {MosquittoErrors.Describe(rc, errno)}{LastLibraryError()}{TlsHint()}");
            }
        }
        finally
        {
            properties.Dispose();
        }

        Check(LibMosquitto.mosquitto_loop_start(_handle), "start the network thread");
        _loopStarted = true;
        try
        {
            await _firstConnack.Task.WaitAsync(_options.ConnectTimeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            throw new MqttException($"MQTT broker {_address} did not accept the connection (no CONNACK) within {_options.ConnectTimeout.TotalSeconds:0.#} s{LastLibraryError()}");
        }
    }

    /// <summary>Disconnects cleanly (the broker discards the will), stops the network thread and frees the client.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_loopStarted)
        {
            // Sets the disconnecting state even when offline, so the network thread leaves its reconnect loop too.
            _ = LibMosquitto.mosquitto_disconnect_v5(_handle, MosquittoConstants.MQTT_RC_NORMAL_DISCONNECTION, 0);
            await Task.Run(() => LibMosquitto.mosquitto_loop_stop(_handle, force: false)).ConfigureAwait(false);
        }

        _isConnected = false;
        var closed = new ObjectDisposedException(nameof(MosquittoConnection), $"The MQTT session '{ClientId}' with {_address} was closed.");
        _publishes.Close(closed);
        FailAll(_subscribes.Drain(), closed);
        FailAll(_unsubscribes.Drain(), closed);
        _firstConnack.TrySetException(closed);
        _messages.Writer.TryComplete();
        _handle.Dispose();
        _self.Free();
    }

    /// <summary>
    /// Cuts the TCP connection under libmosquitto without a DISCONNECT, as a crash or a pulled cable would: the
    /// broker publishes the will and the client reconnects after its backoff.
    /// </summary>
    internal void DropConnectionForTesting()
    {
        var socket = LibMosquitto.mosquitto_socket(_handle);
        if (socket >= 0 && Libc.shutdown(socket, Libc.SHUT_RDWR) != 0)
        {
            throw new MqttException($"shutdown of socket {socket} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }
    }

    private static void FailAll(List<TaskCompletionSource<int>> waiters, Exception exception)
    {
        foreach (var waiter in waiters)
        {
            waiter.TrySetException(exception);
        }
    }

    private void Check(int rc, string what)
    {
        if (rc != MosquittoConstants.MOSQ_ERR_SUCCESS)
        {
            throw new MqttException($"MQTT client '{ClientId}' ({_address}) could not {what}: {MosquittoErrors.Describe(rc)}");
        }
    }

    /// <summary>Over TLS, a rejected certificate shows up only as a reset or protocol error during the handshake.</summary>
    private string TlsHint() => _address.UseTls
        ? "; over TLS this usually means the handshake failed: check TlsCaFile, TlsCertificateFile and TlsKeyFile against what the broker requires"
        : string.Empty;

    private string LastLibraryError() => _lastLibraryError is { } error ? $" (libmosquitto: {error})" : string.Empty;
}
