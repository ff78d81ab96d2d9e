using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

public sealed class PublishSubscribeTests
{
    [Theory]
    [InlineData(MqttQos.AtMostOnce)]
    [InlineData(MqttQos.AtLeastOnce)]
    public async Task Round_trip_keeps_payload_qos_and_properties(MqttQos qos)
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var subscriber = await MqttTestClients.ConnectAsync(broker);
        await using var publisher = await MqttTestClients.ConnectAsync(broker);
        await subscriber.SubscribeAsync("dq/v1/test/+/state", qos);

        var sent = new MqttMessage("dq/v1/test/dev-1/state", "{\"free\":42}"u8.ToArray(), qos)
        {
            ContentType = "application/json",
            MessageExpirySeconds = 3600,
            UserProperties = [new("schema", "1"), new("device", "dev-1"), new("schema", "2")],
        };
        await publisher.PublishAsync(sent);

        var received = await subscriber.ReceiveAsync();
        Assert.Equal(sent.Topic, received.Topic);
        Assert.Equal(sent.Payload.ToArray(), received.Payload.ToArray());
        Assert.Equal(qos, received.Qos);
        Assert.False(received.Retain);
        Assert.Equal("application/json", received.ContentType);
        Assert.InRange(received.MessageExpirySeconds!.Value, 3590u, 3600u);
        Assert.Equal(sent.UserProperties, received.UserProperties);
    }

    [Fact]
    public async Task Message_without_properties_arrives_without_them()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var client = await MqttTestClients.ConnectAsync(broker);
        await client.SubscribeAsync("plain", MqttQos.AtLeastOnce);
        await client.PublishAsync(new MqttMessage("plain", ReadOnlyMemory<byte>.Empty));

        var received = await client.ReceiveAsync();
        Assert.Equal(0, received.Payload.Length);
        Assert.Null(received.ContentType);
        Assert.Null(received.MessageExpirySeconds);
        Assert.Empty(received.UserProperties);
    }

    [Fact]
    public async Task Retained_message_reaches_a_late_subscriber_flagged_retained()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using (var publisher = await MqttTestClients.ConnectAsync(broker))
        {
            await publisher.PublishAsync(new MqttMessage("dq/v1/f/datasets/mnist/manifest", "v7"u8.ToArray(), Retain: true) { ContentType = "application/json" });
        }

        await using var late = await MqttTestClients.ConnectAsync(broker);
        await late.SubscribeAsync("dq/v1/f/datasets/+/manifest", MqttQos.AtLeastOnce);
        var received = await late.ReceiveAsync();
        Assert.True(received.Retain);
        Assert.Equal("v7"u8.ToArray(), received.Payload.ToArray());
        Assert.Equal("application/json", received.ContentType);
    }

    [Fact]
    public async Task Unsubscribed_topics_stop_arriving()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var client = await MqttTestClients.ConnectAsync(broker);
        await client.SubscribeAsync("a", MqttQos.AtLeastOnce);
        await client.UnsubscribeAsync("a");
        await client.PublishAsync(new MqttMessage("a", "x"u8.ToArray()));
        await client.AssertNothingReceivedAsync(TimeSpan.FromMilliseconds(300));
    }

    [Fact]
    public async Task One_MiB_payload_arrives_intact()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var client = await MqttTestClients.ConnectAsync(broker);
        await client.SubscribeAsync("big", MqttQos.AtLeastOnce);
        var payload = MqttTestClients.RandomPayload(1 << 20, seed: 11);
        await client.PublishAsync(new MqttMessage("big", payload));

        var received = await client.ReceiveAsync();
        Assert.True(payload.AsSpan().SequenceEqual(received.Payload.Span), "1 MiB payload differs after the round trip");
    }

    [Fact]
    public async Task Ten_thousand_qos1_messages_arrive_without_loss_in_order()
    {
        const int count = 10_000;
        await using var broker = await MosquittoBroker.StartAsync();
        await using var subscriber = await MqttTestClients.ConnectAsync(broker);
        await using var publisher = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 64);
        await subscriber.SubscribeAsync("bulk", MqttQos.AtLeastOnce);

        var publishing = Task.Run(async () =>
        {
            var pending = new List<Task>(count);
            for (var i = 0; i < count; i++)
            {
                pending.Add(publisher.PublishAsync(new MqttMessage("bulk", BitConverter.GetBytes(i))).AsTask());
            }

            await Task.WhenAll(pending);
        });

        for (var expected = 0; expected < count; expected++)
        {
            var message = await subscriber.ReceiveAsync();
            Assert.Equal(expected, BitConverter.ToInt32(message.Payload.Span));
        }

        await publishing;
        Assert.Equal(0, publisher.InFlight);
    }

    [Fact]
    public async Task Subscribing_with_an_invalid_filter_throws_naming_it()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var client = await MqttTestClients.ConnectAsync(broker);
        var error = await Assert.ThrowsAsync<MqttException>(() => client.SubscribeAsync("a/#/b", MqttQos.AtLeastOnce).AsTask());
        Assert.Contains("a/#/b", error.Message, StringComparison.Ordinal);
    }
}
