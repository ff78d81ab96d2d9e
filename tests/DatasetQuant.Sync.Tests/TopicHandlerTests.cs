using System.Collections.Concurrent;
using System.Text;
using DatasetQuant.Mqtt;
using DatasetQuant.Sync.Device;
using DatasetQuant.Sync.Messages;
using DatasetQuant.Sync.Security;
using DatasetQuant.Testing;

namespace DatasetQuant.Sync.Tests;

/// <summary>Host topics carried by the sync session (<see cref="IDeviceTopicHandler"/>), over mosquitto on loopback.</summary>
public sealed class TopicHandlerTests
{
    private const string CommandTopic = "dq/v1/lab/devices/pi-cmd/command";

    [Fact]
    public async Task A_host_topic_arrives_over_the_sync_session_and_again_after_the_broker_restarts()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        await using var bed = new SyncTestBed(
            coordinatorConnection: await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" }));
        var options = bed.AddDevice("pi-cmd").Options;
        options.BrokerUrl = broker.Url;
        var handler = new RecordingHandler([CommandTopic]);
        await using var session = await factory.ConnectAsync(options.ToConnectionOptions(DeviceSyncEngine.CreateWill(options)));
        await using var operatorSession = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "operator" });
        using var engine = CreateEngine(bed, options, handler);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => engine.RunAsync(session, stop.Token));

        await PublishUntilReceivedAsync(operatorSession, handler, "first", bed);
        await broker.RestartAsync(TimeSpan.FromMilliseconds(200));
        await SyncTestBed.WaitUntilAsync(() => session.IsConnected && operatorSession.IsConnected, "both sessions to reconnect", bed.Log);
        await PublishUntilReceivedAsync(operatorSession, handler, "after restart", bed);

        // The device's own protocol kept running on the same session: after the restart it said online again.
        await operatorSession.SubscribeAsync(bed.Topics.DeviceState("pi-cmd"), MqttQos.AtLeastOnce);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var state = await operatorSession.Messages.ReadAsync(timeout.Token);
        Assert.Contains($"\"{DeviceStateMessage.Online}\"", Encoding.UTF8.GetString(state.Payload.Span), StringComparison.Ordinal);
        Assert.All(handler.Received, m => Assert.Equal(CommandTopic, m.Topic));
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Fact]
    public async Task A_handler_that_throws_loses_that_message_only()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var factory = new MqttConnectionFactory();
        await using var bed = new SyncTestBed(
            coordinatorConnection: await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "dq-lab-coordinator" }));
        var options = bed.AddDevice("pi-cmd").Options;
        options.BrokerUrl = broker.Url;
        var handler = new RecordingHandler([CommandTopic]) { ThrowOn = "boom" };
        await using var session = await factory.ConnectAsync(options.ToConnectionOptions(DeviceSyncEngine.CreateWill(options)));
        await using var operatorSession = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, ClientId = "operator" });
        using var engine = CreateEngine(bed, options, handler);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => engine.RunAsync(session, stop.Token));

        await PublishUntilReceivedAsync(operatorSession, handler, "boom", bed);
        await PublishUntilReceivedAsync(operatorSession, handler, "next", bed);

        Assert.Contains("RecordingHandler failed on " + CommandTopic, bed.Log.Dump(), StringComparison.Ordinal);
        Assert.False(run.IsCompleted, "the sync loop ended after a handler threw");
        stop.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run);
    }

    [Theory]
    [InlineData("dq/v1/lab/devices/+/command", "without '+' or '#'")]
    [InlineData("dq/v1/lab/#", "without '+' or '#'")]
    [InlineData("", "without '+' or '#'")]
    [InlineData("dq/v1/lab/devices/pi-cmd/budget/desired", "a topic of the sync protocol itself")]
    public async Task A_bad_topic_registration_fails_when_the_engine_is_created_and_names_the_handler(string topic, string why)
    {
        await using var bed = new SyncTestBed();
        var options = bed.AddDevice("pi-cmd").Options;

        var error = Assert.Throws<ArgumentException>(() => CreateEngine(bed, options, new RecordingHandler([topic])));

        Assert.Contains("RecordingHandler", error.Message, StringComparison.Ordinal);
        Assert.Contains($"'{topic}'", error.Message, StringComparison.Ordinal);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_handlers_cannot_share_a_topic()
    {
        await using var bed = new SyncTestBed();
        var options = bed.AddDevice("pi-cmd").Options;

        var error = Assert.Throws<ArgumentException>(
            () => CreateEngine(bed, options, new RecordingHandler([CommandTopic]), new RecordingHandler([CommandTopic])));

        Assert.Contains($"'{CommandTopic}', which RecordingHandler already handles", error.Message, StringComparison.Ordinal);
    }

    private static DeviceSyncEngine CreateEngine(SyncTestBed bed, DeviceSyncOptions options, params IDeviceTopicHandler[] handlers) =>
        new(options, ManifestVerifier.FromPemFile(options.CoordinatorKeyPath), null, new DeviceSyncEvents(), [],
            bed.Log.For<DeviceSyncEngine>(), topicHandlers: handlers);

    /// <summary>The engine subscribes a moment after it starts, so the first publishes may find no subscriber yet.</summary>
    private static async Task PublishUntilReceivedAsync(IMqttConnection publisher, RecordingHandler handler, string text, SyncTestBed bed)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (!handler.Seen(text))
        {
            Assert.True(DateTime.UtcNow < deadline, $"'{text}' never reached the handler. Log:{Environment.NewLine}{bed.Log.Dump()}");
            await publisher.PublishAsync(new MqttMessage(CommandTopic, Encoding.UTF8.GetBytes(text)));
            await Task.Delay(100);
        }
    }

    private sealed class RecordingHandler(IReadOnlyList<string> topics) : IDeviceTopicHandler
    {
        private readonly ConcurrentQueue<MqttMessage> _received = new();

        public IReadOnlyList<string> Topics { get; } = topics;

        public string? ThrowOn { get; init; }

        public IEnumerable<MqttMessage> Received => _received;

        public bool Seen(string text) => _received.Any(m => Encoding.UTF8.GetString(m.Payload.Span) == text);

        public void Handle(MqttMessage message)
        {
            // The engine disposes the message when Handle returns: keep a copy of the payload, as a handler must.
            _received.Enqueue(message with { Payload = message.Payload.ToArray() });
            if (Encoding.UTF8.GetString(message.Payload.Span) == ThrowOn)
            {
                throw new InvalidOperationException("handler failure for the test");
            }
        }
    }
}
