using System.Collections.Concurrent;
using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>What survives a connection: the will, kept sessions, subscriptions across a broker restart.</summary>
public sealed class SessionTests
{
    private const string StateTopic = "dq/v1/f/devices/dev-1/state";

    [Fact]
    public async Task Will_is_published_when_the_connection_dies_without_disconnect()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var watcher = await MqttTestClients.ConnectAsync(broker);
        await watcher.SubscribeAsync(StateTopic, MqttQos.AtLeastOnce);
        await using var device = await MqttTestClients.ConnectAsync(broker, o =>
        {
            o.ClientId = "dev-1";
            o.Will = new MqttMessage(StateTopic, "offline"u8.ToArray(), Retain: true) { ContentType = "text/plain", UserProperties = [new("cause", "will")] };
        });

        device.DropConnectionForTesting();

        var will = await watcher.ReceiveAsync();
        Assert.Equal("offline"u8.ToArray(), will.Payload.ToArray());
        Assert.Equal("text/plain", will.ContentType);
        Assert.Equal([new("cause", "will")], will.UserProperties);

        // The will was retained: a subscriber arriving now still learns the device is offline.
        await using var late = await MqttTestClients.ConnectAsync(broker);
        await late.SubscribeAsync(StateTopic, MqttQos.AtLeastOnce);
        Assert.True((await late.ReceiveAsync()).Retain);

        // And the device comes back by itself after its backoff.
        await MqttTestClients.WaitUntilAsync(() => device.IsConnected, TimeSpan.FromSeconds(10), "the device to reconnect");
    }

    [Fact]
    public async Task Clean_dispose_does_not_publish_the_will()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var watcher = await MqttTestClients.ConnectAsync(broker);
        await watcher.SubscribeAsync(StateTopic, MqttQos.AtLeastOnce);
        var device = await MqttTestClients.ConnectAsync(broker, o => o.Will = new MqttMessage(StateTopic, "offline"u8.ToArray()));

        await device.DisposeAsync();

        await watcher.AssertNothingReceivedAsync(TimeSpan.FromMilliseconds(500));
    }

    [Fact]
    public async Task Kept_session_receives_what_was_published_while_away()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        void Resume(MqttConnectionOptions o)
        {
            o.ClientId = "dev-persistent";
            o.CleanStart = false;
            o.SessionExpiry = TimeSpan.FromMinutes(1);
        }

        await using (var first = await MqttTestClients.ConnectAsync(broker, Resume))
        {
            Assert.False(first.SessionPresent);
            await first.SubscribeAsync("dq/v1/f/devices/dev-persistent/budget/desired", MqttQos.AtLeastOnce);
        }

        await using (var coordinator = await MqttTestClients.ConnectAsync(broker))
        {
            for (var version = 1; version <= 5; version++)
            {
                await coordinator.PublishAsync(new MqttMessage("dq/v1/f/devices/dev-persistent/budget/desired", BitConverter.GetBytes(version)));
            }
        }

        await using var second = await MqttTestClients.ConnectAsync(broker, Resume);
        Assert.True(second.SessionPresent);
        for (var version = 1; version <= 5; version++)
        {
            Assert.Equal(version, BitConverter.ToInt32((await second.ReceiveAsync()).Payload.Span));
        }
    }

    [Fact]
    public async Task Session_without_expiry_ends_with_the_connection()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        void NoExpiry(MqttConnectionOptions o)
        {
            o.ClientId = "dev-transient";
            o.CleanStart = false;
            o.SessionExpiry = TimeSpan.Zero;
        }

        await using (var first = await MqttTestClients.ConnectAsync(broker, NoExpiry))
        {
            await first.SubscribeAsync("t/transient", MqttQos.AtLeastOnce);
        }

        await using (var publisher = await MqttTestClients.ConnectAsync(broker))
        {
            await publisher.PublishAsync(new MqttMessage("t/transient", "lost"u8.ToArray()));
        }

        await using var second = await MqttTestClients.ConnectAsync(broker, NoExpiry);
        Assert.False(second.SessionPresent);
        await second.AssertNothingReceivedAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task Broker_restart_reconnects_resubscribes_and_delivers_qos1_published_meanwhile()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = await MqttTestClients.ConnectAsync(broker);
        var states = new ConcurrentQueue<bool>();
        device.StateChanged += (_, e) => states.Enqueue(e.IsConnected);
        await device.SubscribeAsync("dq/v1/f/datasets/+/chunks", MqttQos.AtLeastOnce);

        var restart = broker.RestartAsync(TimeSpan.FromSeconds(1.5));
        await MqttTestClients.WaitUntilAsync(() => !device.IsConnected, TimeSpan.FromSeconds(5), "the device to notice the broker is gone");
        var publishedWhileAway = device.PublishAsync(new MqttMessage("dq/v1/f/devices/d/state", "queued"u8.ToArray())).AsTask();
        await restart;
        await MqttTestClients.WaitUntilAsync(() => device.IsConnected, TimeSpan.FromSeconds(10), "the device to reconnect");

        // The new broker has no session state: only the re-subscription lets this through.
        await publishedWhileAway.WaitAsync(TimeSpan.FromSeconds(10));
        await using var coordinator = await MqttTestClients.ConnectAsync(broker);
        await coordinator.PublishAsync(new MqttMessage("dq/v1/f/datasets/mnist/chunks", "chunk"u8.ToArray()));
        Assert.Equal("chunk"u8.ToArray(), (await device.ReceiveAsync()).Payload.ToArray());
        Assert.Equal([false, true], states.ToArray());
    }

    [Fact]
    public async Task A_throwing_state_handler_does_not_stop_the_network_thread()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = await MqttTestClients.ConnectAsync(broker);
        var calls = 0;
        device.StateChanged += (_, _) =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("handler bug");
        };
        await device.SubscribeAsync("h/#", MqttQos.AtLeastOnce);

        device.DropConnectionForTesting();
        await MqttTestClients.WaitUntilAsync(() => Volatile.Read(ref calls) >= 2 && device.IsConnected, TimeSpan.FromSeconds(10), "the lost and reconnected events");

        await device.PublishAsync(new MqttMessage("h/1", "still here"u8.ToArray()));
        Assert.Equal("still here"u8.ToArray(), (await device.ReceiveAsync()).Payload.ToArray());
    }

    [Fact]
    public async Task Qos0_publish_while_disconnected_fails_clearly()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var device = await MqttTestClients.ConnectAsync(broker, o => o.ReconnectDelayMin = o.ReconnectDelayMax = TimeSpan.FromSeconds(5));
        device.DropConnectionForTesting();
        await MqttTestClients.WaitUntilAsync(() => !device.IsConnected, TimeSpan.FromSeconds(5), "the device to notice the cut");

        var error = await Assert.ThrowsAsync<MqttException>(() => device.PublishAsync(new MqttMessage("t", "x"u8.ToArray(), MqttQos.AtMostOnce)).AsTask());
        Assert.Contains("not connected", error.Message, StringComparison.Ordinal);
    }
}
