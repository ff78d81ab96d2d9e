using DatasetQuant.Mqtt;
using DatasetQuant.Testing.InMemoryMqtt;

namespace DatasetQuant.Sync.Tests;

/// <summary>The in-memory broker hands its subscribers messages under the same ownership rules as an MQTTnet session.</summary>
public sealed class InMemoryTransportTests
{
    [Fact]
    public async Task Each_subscriber_owns_a_pooled_copy_that_its_disposal_alone_returns()
    {
        var broker = new InMemoryMqttBroker();
        await using var first = broker.Connect("first");
        await using var second = broker.Connect("second");
        await using var publisher = broker.Connect("publisher");
        await first.SubscribeAsync("t/+", MqttQos.AtLeastOnce);
        await second.SubscribeAsync("t/+", MqttQos.AtLeastOnce);

        var buffer = new byte[] { 1, 2, 3, 4 };
        await publisher.PublishAsync(new MqttMessage("t/a", buffer) { ContentType = "application/octet-stream" });
        buffer[0] = 99; // the publisher reuses its buffer once the publish completed

        Assert.True(first.Messages.TryRead(out var a));
        Assert.True(second.Messages.TryRead(out var b));
        Assert.True(a.IsPooled);
        Assert.True(b.IsPooled);
        Assert.Equal("application/octet-stream", b.ContentType);
        a.Dispose();
        Assert.Throws<ObjectDisposedException>(() => a.Payload);
        Assert.Equal(new byte[] { 1, 2, 3, 4 }, b.Payload.ToArray());
        b.Dispose();
    }
}
