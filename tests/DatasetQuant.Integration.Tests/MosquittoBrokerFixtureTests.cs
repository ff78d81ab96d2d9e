using System.Net.Sockets;
using DatasetQuant.Testing;

namespace DatasetQuant.Integration.Tests;

public sealed class MosquittoBrokerFixtureTests
{
    // MQTT 3.1.1 CONNECT: clean session, keep-alive 10 s, client id "dq-fixture".
    private static readonly byte[] Connect =
    [
        0x10, 22, 0x00, 0x04, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 0x04, 0x02, 0x00, 0x0A,
        0x00, 0x0A, (byte)'d', (byte)'q', (byte)'-', (byte)'f', (byte)'i', (byte)'x', (byte)'t', (byte)'u', (byte)'r', (byte)'e',
    ];

    [Fact]
    public async Task Broker_starts_on_loopback_accepts_an_mqtt_connect_and_stops()
    {
        int port;
        await using (var broker = await MosquittoBroker.StartAsync())
        {
            port = broker.Port;
            var connack = await ConnectAsync(port);
            Assert.Equal([0x20, 0x02, 0x00, 0x00], connack); // CONNACK, session not present, accepted
        }

        await Assert.ThrowsAnyAsync<SocketException>(() => ConnectAsync(port));
    }

    [Fact]
    public async Task Broker_restarts_on_the_same_port()
    {
        await using var broker = await MosquittoBroker.StartAsync();
        await broker.RestartAsync(TimeSpan.FromMilliseconds(100));

        Assert.Equal([0x20, 0x02, 0x00, 0x00], await ConnectAsync(broker.Port));
    }

    private static async Task<byte[]> ConnectAsync(int port)
    {
        using var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        var stream = client.GetStream();
        await stream.WriteAsync(Connect);
        var connack = new byte[4];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await stream.ReadExactlyAsync(connack, timeout.Token);
        return connack;
    }
}
