using System.Collections.Concurrent;
using System.Threading.Channels;
using DatasetQuant.Mqtt.Transport;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using MQTTnet;
using MQTTnet.Implementations;

namespace DatasetQuant.Mqtt;

/// <summary>
/// An MQTT 5 session over MQTTnet: one <see cref="MqttClient"/> on the plain-socket transport, with what the sync
/// protocol needs on top of it: a bounded, ordered publish window whose QoS 1 messages survive a reconnect, a bounded
/// receive queue of pooled payloads, and reconnecting with backoff and re-subscribing after the broker is lost.
/// </summary>
/// <remarks>
/// MQTTnet reads packets on one task and hands received PUBLISH packets to another, which runs the receive handler
/// and then sends the PUBACK; acknowledgements of this session's own publishes, keep-alives and SUBACKs never wait for
/// that handler. So the handler may wait for the reader of <see cref="Messages"/> (see <see cref="ReceivedMessageQueue"/>)
/// without stalling publishes, and a reader that publishes while it reads cannot deadlock against its own PUBACKs.
/// </remarks>
public sealed partial class MqttConnection : IMqttConnection
{
    private readonly MqttConnectionOptions _options;
    private readonly MqttBrokerAddress _address;
    private readonly ILogger _logger;
    private readonly SocketStreamProvider _transport = new();
    private readonly MqttClient _client;
    private readonly MqttClientOptions _clientOptions;
    private readonly PublishWindow _publishes;
    private readonly ReceivedMessageQueue _received;
    private readonly ConcurrentDictionary<string, MqttQos> _subscriptions = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _closing = new();
    private readonly SemaphoreSlim _lost = new(0);
    private Task _supervisor = Task.CompletedTask;
    private volatile bool _isConnected;
    private volatile bool _sessionPresent;
    private int _disposed;

    private MqttConnection(MqttConnectionOptions options, MqttBrokerAddress address, ILogger logger)
    {
        _options = options;
        _address = address;
        _logger = logger;
        ClientId = options.ClientId ?? "dq-" + Guid.NewGuid().ToString("N")[..20];
        _clientOptions = MqttNetClientOptions.Create(options, address, ClientId, _transport);
        _publishes = new PublishWindow(options.MaxInFlight, SendPublish, DescribePublishFailure);
        _received = new ReceivedMessageQueue(options.ReceiveMaximum);
        _client = new MqttClient(new TcpChannelAdapterFactory(), new MqttNetLogger(logger));
        _client.ApplicationMessageReceivedAsync += OnMessageReceivedAsync;
        _client.DisconnectedAsync += OnDisconnectedAsync;
    }

    public string ClientId { get; }

    public bool IsConnected => _isConnected;

    /// <summary>Whether the broker resumed a kept session at the latest CONNACK.</summary>
    public bool SessionPresent => _sessionPresent;

    /// <summary>The broker this session talks to.</summary>
    public MqttBrokerAddress Broker => _address;

    public ChannelReader<MqttMessage> Messages => _received.Reader;

    /// <summary>Received messages nobody has read from <see cref="Messages"/> yet.</summary>
    public int QueuedMessages => _received.Reader.Count;

    /// <summary>Publishes on the wire and not yet acknowledged or written; never above MaxInFlight.</summary>
    public int InFlight => _publishes.InFlight;

    /// <summary>Bytes read from the current connection so far (how far the transport has been drained).</summary>
    internal long BytesReceived => _transport.Current?.BytesRead ?? 0;

    public event EventHandler<MqttConnectionStateChangedEventArgs>? StateChanged;

    /// <summary>Connects and returns once the broker's CONNACK accepted the session; throws <see cref="MqttException"/> otherwise.</summary>
    public static async Task<MqttConnection> ConnectAsync(
        MqttConnectionOptions options, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var address = options.Validate();
        var connection = new MqttConnection(options, address, logger ?? NullLogger.Instance);
        try
        {
            await connection.ConnectOnceAsync(cancellationToken).ConfigureAwait(false);
            connection._supervisor = Task.Run(connection.SuperviseAsync);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Disconnects cleanly (the broker discards the will), fails what is still waiting and ends <see cref="Messages"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _closing.CancelAsync().ConfigureAwait(false);
        _publishes.Close(new ObjectDisposedException(nameof(MqttConnection), $"The MQTT session '{ClientId}' with {_address} was closed."));
        if (_client.IsConnected)
        {
            try
            {
                using var timeout = new CancellationTokenSource(_options.ConnectTimeout);
                await _client.DisconnectAsync(new MqttClientDisconnectOptions { Reason = MqttClientDisconnectOptionsReason.NormalDisconnection }, timeout.Token).ConfigureAwait(false);
                _logger.LogInformation("MQTT client {ClientId} disconnected from {Broker}", ClientId, _address);
            }
            catch (Exception ex)
            {
                _logger.LogDebug(ex, "MQTT client {ClientId} could not disconnect cleanly from {Broker}", ClientId, _address);
            }
        }

        try
        {
            await _supervisor.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException || _closing.IsCancellationRequested)
        {
            // Stopped mid-reconnect: whatever the interrupted attempt threw no longer matters.
            _logger.LogDebug(ex, "MQTT client {ClientId} stopped reconnecting", ClientId);
        }

        _isConnected = false;
        _received.Complete();
        _client.Dispose();
    }

    /// <summary>
    /// Cuts the TCP connection without a DISCONNECT, as a crash or a pulled cable would: the broker publishes the will
    /// and the session reconnects after its backoff.
    /// </summary>
    internal void DropConnectionForTesting() => _transport.Current?.Abort();

    /// <summary>One connection attempt; on success the session is connected and <see cref="SessionPresent"/> set.</summary>
    private async Task ConnectOnceAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _closing.Token);
        timeout.CancelAfter(_options.ConnectTimeout);
        MqttClientConnectResult result;
        try
        {
            result = await _client.ConnectAsync(_clientOptions, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && !_closing.IsCancellationRequested)
        {
            if (timeout.IsCancellationRequested)
            {
                throw new MqttException($"MQTT broker {_address} did not accept the connection (no CONNACK) within {_options.ConnectTimeout.TotalSeconds:0.#} s{TlsHint()}", ex);
            }

            throw new MqttException($"Cannot connect to MQTT broker {_address}: {Innermost(ex).Message}{TlsHint()}", ex);
        }

        if (result.ResultCode != MqttClientConnectResultCode.Success)
        {
            var refused = $"MQTT broker {_address} refused the connection of '{ClientId}': {MqttReasonCodes.Describe((int)result.ResultCode)}"
                + (string.IsNullOrEmpty(result.ReasonString) ? string.Empty : $" ({result.ReasonString})");
            throw new MqttException(refused);
        }

        _sessionPresent = result.IsSessionPresent;
        _isConnected = true;
    }

    /// <summary>Waits for a lost connection, then reconnects with backoff, re-subscribes and sends what waited.</summary>
    private async Task SuperviseAsync()
    {
        var stopping = _closing.Token;
        while (true)
        {
            await _lost.WaitAsync(stopping).ConfigureAwait(false);
            if (_client.IsConnected)
            {
                // A loss already made good by the previous round; let anything it paused go.
                _publishes.Resume();
                continue;
            }

            await _publishes.Suspend().WaitAsync(stopping).ConfigureAwait(false);
            var delay = _options.ReconnectDelayMin;
            while (true)
            {
                await Task.Delay(delay, stopping).ConfigureAwait(false);
                try
                {
                    await ConnectOnceAsync(stopping).ConfigureAwait(false);
                    break;
                }
                catch (MqttException ex)
                {
                    _logger.LogInformation("MQTT client {ClientId} could not reconnect, next try in {Delay} s: {Reason}", ClientId, Math.Min((delay * 2).TotalSeconds, _options.ReconnectDelayMax.TotalSeconds), ex.Message);
                    delay = delay * 2 < _options.ReconnectDelayMax ? delay * 2 : _options.ReconnectDelayMax;
                }
            }

            await ResubscribeAsync(stopping).ConfigureAwait(false);
            _publishes.Resume();
            var reason = $"reconnected to {_address}{(_sessionPresent ? " (session resumed)" : string.Empty)}";
            _logger.LogInformation("MQTT client {ClientId} {Reason}", ClientId, reason);
            RaiseStateChanged(true, reason);
        }
    }

    private Task OnDisconnectedAsync(MqttClientDisconnectedEventArgs e)
    {
        // Failed connection attempts end here too; only the loss of a connected session starts a reconnect.
        if (!e.ClientWasConnected || _closing.IsCancellationRequested)
        {
            return Task.CompletedTask;
        }

        _isConnected = false;
        var reason = DescribeDisconnect(e);
        _logger.LogWarning("MQTT client {ClientId} lost {Broker}: {Reason}", ClientId, _address, reason);
        RaiseStateChanged(false, reason);
        _lost.Release();
        return Task.CompletedTask;
    }

    private static string DescribeDisconnect(MqttClientDisconnectedEventArgs e)
    {
        if (e.Exception is { } ex)
        {
            return $"connection lost: {Innermost(ex).Message}";
        }

        if (e.Reason != MqttClientDisconnectReason.NormalDisconnection)
        {
            var text = $"the broker disconnected: {MqttReasonCodes.Describe((int)e.Reason)}";
            return string.IsNullOrEmpty(e.ReasonString) ? text : $"{text} ({e.ReasonString})";
        }

        return "connection closed by the broker";
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

    /// <summary>Over TLS, a rejected certificate shows up only as a reset or protocol error during the handshake.</summary>
    private string TlsHint() => _address.UseTls
        ? "; over TLS this usually means the handshake failed: check TlsCaFile, TlsCertificateFile and TlsKeyFile against what the broker requires"
        : string.Empty;

    private static Exception Innermost(Exception exception)
    {
        var inner = exception;
        while (inner.InnerException is { } next)
        {
            inner = next;
        }

        return inner;
    }
}
