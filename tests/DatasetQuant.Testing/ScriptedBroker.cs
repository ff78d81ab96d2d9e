using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace DatasetQuant.Testing;

/// <summary>
/// A TCP peer that speaks just enough MQTT 5 to accept one client and then lets the test decide when to answer its
/// PUBLISH packets, so what the client puts on the wire can be watched while acknowledgements are held back.
/// </summary>
public sealed class ScriptedBroker : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private TcpClient? _client;
    private NetworkStream? _stream;

    public ScriptedBroker() => _listener.Start();

    public string Url => $"mqtt://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";

    /// <summary>Accepts the client, reads its CONNECT and accepts it.</summary>
    public async Task AcceptAsync(CancellationToken cancellationToken)
    {
        await AcceptWithoutAnswerAsync(cancellationToken);
        await _stream!.WriteAsync(new byte[] { 0x20, 0x03, 0x00, 0x00, 0x00 }, cancellationToken); // CONNACK: success, no properties
    }

    /// <summary>Accepts the TCP connection and reads CONNECT, but never answers it.</summary>
    public async Task AcceptWithoutAnswerAsync(CancellationToken cancellationToken)
    {
        _client = await _listener.AcceptTcpClientAsync(cancellationToken);
        _stream = _client.GetStream();
        var (type, _) = await ReadPacketAsync(cancellationToken);
        Assert.Equal(0x10, type & 0xF0);
    }

    /// <summary>The next PUBLISH: its packet id and payload. Fails on any other packet.</summary>
    public async Task<(ushort PacketId, byte[] Payload)> ReadPublishAsync(CancellationToken cancellationToken)
    {
        var (type, body) = await ReadPacketAsync(cancellationToken);
        Assert.True((type & 0xF0) == 0x30, $"expected PUBLISH, got packet type 0x{type:X2}");
        var topicLength = BinaryPrimitives.ReadUInt16BigEndian(body);
        var offset = 2 + topicLength;
        var packetId = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(offset));
        offset += 2;
        var (propertiesLength, lengthBytes) = MqttVariableByteInteger.Read(body.AsSpan(offset));
        offset += lengthBytes + propertiesLength;
        return (packetId, body[offset..]);
    }

    /// <summary>True when a packet arrives within <paramref name="quiet"/>.</summary>
    public async Task<bool> SendsAnythingWithinAsync(TimeSpan quiet)
    {
        using var cts = new CancellationTokenSource(quiet);
        var buffer = new byte[1];
        try
        {
            // Peek without consuming: a byte here would be the start of the next packet.
            return await _client!.Client.ReceiveAsync(buffer, SocketFlags.Peek, cts.Token) > 0;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task AcknowledgeAsync(ushort packetId, CancellationToken cancellationToken)
    {
        var puback = new byte[] { 0x40, 0x02, 0x00, 0x00 };
        BinaryPrimitives.WriteUInt16BigEndian(puback.AsSpan(2), packetId);
        await _stream!.WriteAsync(puback, cancellationToken);
    }

    public ValueTask DisposeAsync()
    {
        _client?.Dispose();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }

    private async Task<(byte Type, byte[] Body)> ReadPacketAsync(CancellationToken cancellationToken)
    {
        var header = new byte[1];
        await _stream!.ReadExactlyAsync(header, cancellationToken);
        var length = await MqttVariableByteInteger.ReadAsync(_stream, cancellationToken);

        var body = new byte[length];
        await _stream.ReadExactlyAsync(body, cancellationToken);
        return (header[0], body);
    }
}
