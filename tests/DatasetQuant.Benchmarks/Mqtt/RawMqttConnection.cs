using System.Buffers.Binary;
using System.Net.Sockets;
using System.Text;
using DatasetQuant.Testing;

namespace DatasetQuant.Benchmarks.Mqtt;

/// <summary>
/// The baseline: MQTT 5 spoken directly over a socket with nothing but framing, so it measures what the broker and
/// TCP on this machine can carry. Publishing keeps the same in-flight window as the client under test.
/// </summary>
internal sealed class RawMqttConnection : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _network;
    private readonly BufferedStream _reader;
    private readonly byte[] _ack = [0x40, 0x02, 0, 0];

    private RawMqttConnection(TcpClient tcp)
    {
        _tcp = tcp;
        _tcp.NoDelay = true;
        _network = tcp.GetStream();
        _reader = new BufferedStream(_network, 256 * 1024);
    }

    public static async Task<RawMqttConnection> ConnectAsync(string host, int port, string clientId)
    {
        var tcp = new TcpClient();
        await tcp.ConnectAsync(host, port);
        var connection = new RawMqttConnection(tcp);
        var id = Encoding.UTF8.GetBytes(clientId);
        var body = new List<byte> { 0, 4, (byte)'M', (byte)'Q', (byte)'T', (byte)'T', 5, 0x02, 0, 60, 0 };
        body.AddRange([(byte)(id.Length >> 8), (byte)id.Length]);
        body.AddRange(id);
        await connection.WritePacketAsync(0x10, [.. body]);
        var (type, connack) = await connection.ReadPacketAsync(new byte[64]);
        if (type != 0x20 || connack.Span[1] != 0)
        {
            throw new InvalidOperationException($"raw CONNECT refused: packet 0x{type:X2}, reason 0x{connack.Span[1]:X2}");
        }

        return connection;
    }

    public async Task SubscribeAsync(string topic)
    {
        var name = Encoding.UTF8.GetBytes(topic);
        var body = new List<byte> { 0, 1, 0, (byte)(name.Length >> 8), (byte)name.Length };
        body.AddRange(name);
        body.Add(1);
        await WritePacketAsync(0x82, [.. body]);
        var (type, suback) = await ReadPacketAsync(new byte[64]);
        if (type != 0x90 || suback.Span[^1] != 1)
        {
            throw new InvalidOperationException($"raw SUBSCRIBE not granted at QoS 1: packet 0x{type:X2}");
        }
    }

    /// <summary>Publishes <paramref name="count"/> QoS 1 copies, at most <paramref name="window"/> unacknowledged.</summary>
    public async Task PublishAsync(string topic, byte[] payload, int count, int window)
    {
        var name = Encoding.UTF8.GetBytes(topic);
        var remaining = 2 + name.Length + 2 + 1 + payload.Length;
        var packet = new byte[1 + MqttVariableByteInteger.Length(remaining) + remaining];
        packet[0] = 0x32;
        var offset = 1 + MqttVariableByteInteger.Write(packet.AsSpan(1), remaining);
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(offset), (ushort)name.Length);
        name.CopyTo(packet, offset + 2);
        var idOffset = offset + 2 + name.Length;
        packet[idOffset + 2] = 0;
        payload.CopyTo(packet, idOffset + 3);

        using var slots = new SemaphoreSlim(window, window);
        var acknowledgements = Task.Run(async () =>
        {
            var scratch = new byte[64];
            for (var acked = 0; acked < count; acked++)
            {
                var (type, _) = await ReadPacketAsync(scratch);
                if (type != 0x40)
                {
                    throw new InvalidOperationException($"expected PUBACK, got 0x{type:X2}");
                }

                slots.Release();
            }
        });

        for (var i = 0; i < count; i++)
        {
            await slots.WaitAsync();
            BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(idOffset), (ushort)(i % 65535 + 1));
            await _network.WriteAsync(packet);
        }

        await acknowledgements;
    }

    /// <summary>Reads <paramref name="count"/> PUBLISH packets, acknowledging each; returns the payload bytes seen.</summary>
    public async Task<long> ReceiveAsync(int count, int maxPacket)
    {
        var buffer = new byte[maxPacket];
        long bytes = 0;
        for (var i = 0; i < count; i++)
        {
            var (type, body) = await ReadPacketAsync(buffer);
            if ((type & 0xF0) != 0x30)
            {
                throw new InvalidOperationException($"expected PUBLISH, got 0x{type:X2}");
            }

            var topicLength = BinaryPrimitives.ReadUInt16BigEndian(body.Span);
            var idOffset = 2 + topicLength;
            _ack[2] = body.Span[idOffset];
            _ack[3] = body.Span[idOffset + 1];
            await _network.WriteAsync(_ack);
            var (propertiesLength, lengthBytes) = MqttVariableByteInteger.Read(body.Span[(idOffset + 2)..]);
            bytes += body.Length - (idOffset + 2 + lengthBytes + propertiesLength);
        }

        return bytes;
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task WritePacketAsync(byte type, byte[] body)
    {
        var header = new byte[5];
        header[0] = type;
        var length = 1 + MqttVariableByteInteger.Write(header.AsSpan(1), body.Length);
        await _network.WriteAsync(header.AsMemory(0, length));
        await _network.WriteAsync(body);
    }

    private async Task<(byte Type, Memory<byte> Body)> ReadPacketAsync(byte[] buffer)
    {
        var one = new byte[1];
        await _reader.ReadExactlyAsync(one);
        var type = one[0];
        var length = await MqttVariableByteInteger.ReadAsync(_reader);

        if (length > buffer.Length)
        {
            throw new InvalidDataException($"packet of {length} bytes exceeds the {buffer.Length}-byte buffer");
        }

        await _reader.ReadExactlyAsync(buffer.AsMemory(0, length));
        return (type, buffer.AsMemory(0, length));
    }
}
