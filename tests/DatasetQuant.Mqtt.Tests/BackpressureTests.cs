using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

/// <summary>A reader that falls behind leaves the backlog at the broker: the session's memory stays bounded, nothing is lost.</summary>
public sealed class BackpressureTests
{
    private const int Window = 4;
    private const int Count = 200;
    private const int PayloadBytes = 64 * 1024;

    /// <summary>mosquitto's default max_inflight_messages: QoS 1 messages it sends one client unacknowledged.</summary>
    private const int BrokerInflightLimit = 20;

    [Fact]
    public async Task A_reader_that_stops_reading_stops_the_broker_after_the_receive_window_and_then_gets_everything_in_order()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var reader = await MqttTestClients.ConnectAsync(broker, o => o.ReceiveMaximum = Window);
        await using var publisher = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 16);
        await reader.SubscribeAsync("backlog", MqttQos.AtLeastOnce);

        await PublishNumberedAsync(publisher, "backlog");
        await Task.Delay(500);

        // The queue for the reader, the message waiting for room in it, and what the broker sends unacknowledged: at
        // most Receive Maximum by MQTT 5, though mosquitto 2.0.11 was seen to send up to its own max_inflight_messages
        // (20) instead. Either way a few dozen messages have crossed the wire, not the 200 (12.5 MiB) published.
        Assert.InRange(reader.QueuedMessages, 1, Window);
        Assert.InRange(reader.BytesReceived, 1, (Window + BrokerInflightLimit + 2) * (PayloadBytes + 64L));

        for (var expected = 0; expected < Count; expected++)
        {
            using var message = await reader.ReceiveAsync();
            Assert.Equal(expected, BitConverter.ToInt32(message.Payload.Span));
        }
    }

    [Fact]
    public async Task A_full_queue_does_not_keep_the_session_from_reconnecting_and_a_kept_session_loses_nothing()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var reader = await MqttTestClients.ConnectAsync(broker, o =>
        {
            o.ClientId = "slow-reader";
            o.CleanStart = false;
            o.SessionExpiry = TimeSpan.FromMinutes(1);
            o.ReceiveMaximum = Window;
        });
        await using var publisher = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 16);
        await reader.SubscribeAsync("backlog", MqttQos.AtLeastOnce);
        var states = new System.Collections.Concurrent.ConcurrentQueue<bool>();
        reader.StateChanged += (_, e) => states.Enqueue(e.IsConnected);

        await PublishNumberedAsync(publisher, "backlog");
        await MqttTestClients.WaitUntilAsync(() => reader.QueuedMessages == Window, TimeSpan.FromSeconds(10), "the reader's queue to fill");

        reader.DropConnectionForTesting();
        await MqttTestClients.WaitUntilAsync(() => states.ToArray() is [false, true], TimeSpan.FromSeconds(10), "the reader to lose the broker and come back");

        // Messages the lost connection delivered but never acknowledged come again: at least once, so some twice.
        var seen = new HashSet<int>();
        var duplicates = 0;
        while (seen.Count < Count)
        {
            using var message = await reader.ReceiveAsync();
            if (!seen.Add(BitConverter.ToInt32(message.Payload.Span)))
            {
                duplicates++;
            }
        }

        Assert.InRange(duplicates, 0, Window + BrokerInflightLimit);
    }

    private static async Task PublishNumberedAsync(IMqttConnection publisher, string topic)
    {
        var payload = MqttTestClients.RandomPayload(PayloadBytes, seed: 9);
        var publishes = new List<Task>(Count);
        for (var i = 0; i < Count; i++)
        {
            var numbered = (byte[])payload.Clone();
            BitConverter.TryWriteBytes(numbered, i);
            publishes.Add(publisher.PublishAsync(new MqttMessage(topic, numbered)).AsTask());
        }

        await Task.WhenAll(publishes).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
