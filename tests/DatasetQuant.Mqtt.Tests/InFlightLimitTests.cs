using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

public sealed class InFlightLimitTests
{
    [Fact]
    public async Task No_more_than_MaxInFlight_unacknowledged_publishes_reach_the_wire_and_the_rest_keep_their_order()
    {
        const int limit = 3;
        const int total = 8;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptAsync(timeout.Token);
        await using var client = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, MaxInFlight = limit });
        await accepting;

        var publishes = Enumerable.Range(0, total)
            .Select(i => client.PublishAsync(new MqttMessage("window", new[] { (byte)i })).AsTask())
            .ToArray();

        var onWire = new List<(ushort Id, byte[] Payload)>();
        for (var i = 0; i < limit; i++)
        {
            onWire.Add(await broker.ReadPublishAsync(timeout.Token));
        }

        Assert.False(await broker.SendsAnythingWithinAsync(TimeSpan.FromMilliseconds(400)), "a publish beyond the in-flight limit reached the wire");
        Assert.Equal(limit, client.InFlight);
        Assert.All(publishes, p => Assert.False(p.IsCompleted));

        // Each acknowledgement lets exactly one more through, in the order they were published.
        for (var acked = 0; acked < total; acked++)
        {
            await broker.AcknowledgeAsync(onWire[acked].Id, timeout.Token);
            await publishes[acked].WaitAsync(timeout.Token);
            if (onWire.Count < total)
            {
                onWire.Add(await broker.ReadPublishAsync(timeout.Token));
            }

            Assert.InRange(client.InFlight, 0, limit);
        }

        Assert.Equal(Enumerable.Range(0, total).Select(i => (byte)i), onWire.Select(p => p.Payload.Single()));
        Assert.Equal(0, client.InFlight);
    }

    [Fact]
    public async Task Cancelling_a_publish_that_waits_for_a_slot_leaves_the_others_alone()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptAsync(timeout.Token);
        await using var client = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url, MaxInFlight = 1 });
        await accepting;

        var first = client.PublishAsync(new MqttMessage("w", new byte[] { 1 })).AsTask();
        using var cancel = new CancellationTokenSource();
        var second = client.PublishAsync(new MqttMessage("w", new byte[] { 2 }), cancel.Token).AsTask();
        var third = client.PublishAsync(new MqttMessage("w", new byte[] { 3 })).AsTask();
        var (firstId, _) = await broker.ReadPublishAsync(timeout.Token);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => second);

        await broker.AcknowledgeAsync(firstId, timeout.Token);
        await first.WaitAsync(timeout.Token);
        var (thirdId, payload) = await broker.ReadPublishAsync(timeout.Token);
        Assert.Equal([3], payload);
        await broker.AcknowledgeAsync(thirdId, timeout.Token);
        await third.WaitAsync(timeout.Token);
    }

    [Fact]
    public async Task Qos1_messages_in_flight_when_the_broker_dies_complete_after_it_returns()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await using var client = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 16);
        var payload = MqttTestClients.RandomPayload(16 * 1024, seed: 3);
        var publishes = Enumerable.Range(0, 2000)
            .Select(_ => client.PublishAsync(new MqttMessage("dq/v1/f/datasets/x/chunks", payload)).AsTask())
            .ToArray();
        await broker.RestartAsync(TimeSpan.FromMilliseconds(300));

        await Task.WhenAll(publishes).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(0, client.InFlight);
    }
}
