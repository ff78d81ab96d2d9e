using DatasetQuant.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace DatasetQuant.Mqtt.Tests;

public sealed class HostingTests
{
    [Fact]
    public async Task AddMqtt_provides_a_factory_whose_connections_reach_the_broker()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var builder = Host.CreateApplicationBuilder();
        builder.Services.AddMqtt();
        using var host = builder.Build();

        var factory = host.Services.GetRequiredService<IMqttConnectionFactory>();
        Assert.IsType<MqttConnectionFactory>(factory);
        await using var connection = await factory.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url });
        await connection.SubscribeAsync("h", MqttQos.AtLeastOnce);
        await connection.PublishAsync(new MqttMessage("h", "hosted"u8.ToArray()));
        Assert.Equal("hosted"u8.ToArray(), (await connection.ReceiveAsync()).Payload.ToArray());
    }

    [Fact]
    public async Task Disposing_while_publishes_are_queued_ends_every_one_of_them()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var client = await MqttTestClients.ConnectAsync(broker, o => o.MaxInFlight = 4);
        var payload = MqttTestClients.RandomPayload(32 * 1024, seed: 5);
        var publishes = Enumerable.Range(0, 500).Select(_ => client.PublishAsync(new MqttMessage("d", payload)).AsTask()).ToArray();

        await client.DisposeAsync();
        var late = client.PublishAsync(new MqttMessage("d", payload)).AsTask();

        // None may hang: each finishes acknowledged or fails because the session closed.
        var all = Task.WhenAll(publishes.Append(late));
        await Assert.ThrowsAnyAsync<Exception>(() => all.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.All(publishes.Append(late), p => Assert.True(p.IsCompleted));
        Assert.All(publishes.Where(p => p.IsFaulted), p => Assert.IsType<ObjectDisposedException>(p.Exception!.InnerException));
    }
}
