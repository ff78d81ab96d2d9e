using DatasetQuant.Testing;

namespace DatasetQuant.Mqtt.Tests;

public sealed class ConnectTests
{
    [Fact]
    public async Task Connecting_where_no_broker_listens_names_the_broker_and_the_reason()
    {
        var port = MosquittoBroker.FreeLoopbackPort();
        var error = await Assert.ThrowsAsync<MqttException>(() => MqttConnection.ConnectAsync(
            new MqttConnectionOptions { BrokerUri = $"mqtt://127.0.0.1:{port}" }));
        Assert.Contains($"mqtt://127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.Contains("refused", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_broker_that_rejects_the_credentials_gives_its_reason()
    {
        await using var broker = await MosquittoBroker.StartAsync("allow_anonymous false");
        var error = await Assert.ThrowsAsync<MqttException>(() => MqttTestClients.ConnectAsync(broker));
        Assert.Contains(broker.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains("authorised", error.Message.Replace("authorized", "authorised", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_broker_that_never_answers_CONNECT_times_out_with_a_clear_error()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptWithoutAnswerAsync(timeout.Token);
        var error = await Assert.ThrowsAsync<MqttException>(() => MqttConnection.ConnectAsync(
            new MqttConnectionOptions { BrokerUri = broker.Url, ConnectTimeout = TimeSpan.FromMilliseconds(500) }));
        await accepting;
        Assert.Contains(broker.Url, error.Message, StringComparison.Ordinal);
        Assert.Contains("no CONNACK", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_subscribe_its_caller_cancels_while_the_broker_is_silent_is_a_cancellation_not_a_failure()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await using var broker = new ScriptedBroker();
        var accepting = broker.AcceptAsync(timeout.Token);
        await using var connection = await MqttConnection.ConnectAsync(new MqttConnectionOptions { BrokerUri = broker.Url });
        await accepting;

        // The broker never sends SUBACK; the caller (a device being stopped, say) gives up. MQTTnet reports that as a timeout.
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () => await connection.SubscribeAsync("dq/v1/lab/devices/a/chunks", MqttQos.AtLeastOnce, stop.Token));
    }

    [Theory]
    [InlineData("tcp://127.0.0.1:1883", "scheme")]
    [InlineData("127.0.0.1", "mqtt://host:port")]
    [InlineData("mqtt://127.0.0.1:1883/path", "only scheme")]
    public void Bad_broker_uris_are_rejected_with_the_uri_in_the_message(string uri, string hint)
    {
        var error = Assert.Throws<ArgumentException>(() => new MqttConnectionOptions { BrokerUri = uri }.Validate());
        Assert.Contains(uri, error.Message, StringComparison.Ordinal);
        Assert.Contains(hint, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Broker_uri_default_ports_follow_the_scheme()
    {
        Assert.Equal(new MqttBrokerAddress("broker.example", 1883, false), MqttBrokerAddress.Parse("mqtt://broker.example"));
        Assert.Equal(new MqttBrokerAddress("broker.example", 8883, true), MqttBrokerAddress.Parse("mqtts://broker.example"));
        Assert.Equal(new MqttBrokerAddress("10.0.0.2", 1884, false), MqttBrokerAddress.Parse("mqtt://10.0.0.2:1884"));
    }

    [Fact]
    public void Resuming_a_session_needs_a_client_id()
    {
        var error = Assert.Throws<ArgumentException>(() => new MqttConnectionOptions { CleanStart = false }.Validate());
        Assert.Contains("ClientId", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connected_state_is_reported_and_dispose_is_idempotent()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        var client = await MqttTestClients.ConnectAsync(broker, o => o.ClientId = "dev-7");
        Assert.True(client.IsConnected);
        Assert.Equal("dev-7", client.ClientId);
        await client.DisposeAsync();
        Assert.False(client.IsConnected);
        Assert.True(client.Messages.Completion.IsCompleted, "readers of Messages must end when the session is disposed");
        await client.DisposeAsync();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => client.PublishAsync(new MqttMessage("t", "x"u8.ToArray())).AsTask());
    }
}
