using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using DatasetQuant.Mqtt.Transport;
using DatasetQuant.Testing;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;

namespace DatasetQuant.Benchmarks.Mqtt;

/// <summary>
/// <c>dotnet run -c Release --project tests/DatasetQuant.Benchmarks -- mqtt-transport [--rounds N] [--messages N] [--payload BYTES]</c>:
/// an MQTTnet publisher over its built-in TCP channel against the same publisher over <see cref="SocketStreamProvider"/>,
/// QoS 1 with 16 publishes in flight, through mosquitto on loopback to a raw-socket subscriber, rounds interleaved.
/// Measures the choice of transport under <c>MqttConnection</c>; a command because the slow transport makes a
/// BenchmarkDotNet run take hours.
/// </summary>
internal static class TransportMeasurement
{
    private const int Window = 16;

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = Option(args, "--rounds", 5);
        var messages = Option(args, "--messages", 256);
        var payloadBytes = Option(args, "--payload", 128 * 1024);
        await using var broker = await MosquittoBroker.StartAsync();
        var payload = new byte[payloadBytes];
        Random.Shared.NextBytes(payload);
        var builtIn = new List<double>();
        var socket = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            builtIn.Add(await MegabytesPerSecondAsync(broker, payload, messages, streamProvider: null));
            socket.Add(await MegabytesPerSecondAsync(broker, payload, messages, new SocketStreamProvider()));
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{messages} x {payloadBytes} B, QoS 1, {Window} in flight, {rounds} rounds; load average {File.ReadAllText("/proc/loadavg")[..14]}"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"MQTTnet built-in TCP: median {Median(builtIn):F1} MB/s [{string.Join(", ", builtIn.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}]"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"plain-socket provider: median {Median(socket):F1} MB/s [{string.Join(", ", socket.Select(v => v.ToString("F1", CultureInfo.InvariantCulture)))}]"));
        return 0;
    }

    private static async Task<double> MegabytesPerSecondAsync(MosquittoBroker broker, byte[] payload, int messages, SocketStreamProvider? streamProvider)
    {
        var topic = $"bench/transport/{Guid.NewGuid():N}";
        await using var subscriber = await RawMqttConnection.ConnectAsync(broker.Host, broker.Port, "raw-" + topic[^8..]);
        await subscriber.SubscribeAsync(topic);
        using var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptions
        {
            ProtocolVersion = MqttProtocolVersion.V500,
            ClientId = "pub-" + topic[^8..],
            ChannelOptions = new MqttClientTcpOptions
            {
                RemoteEndpoint = new IPEndPoint(IPAddress.Loopback, broker.Port),
                NoDelay = true,
                StreamProvider = streamProvider,
            },
        };
        await client.ConnectAsync(options);
        var receiving = subscriber.ReceiveAsync(messages, payload.Length + 1024);
        var clock = Stopwatch.StartNew();
        var window = new Queue<Task>();
        for (var i = 0; i < messages; i++)
        {
            if (window.Count == Window)
            {
                await window.Dequeue();
            }

            window.Enqueue(client.PublishAsync(new MqttApplicationMessage
            {
                Topic = topic,
                Payload = new ReadOnlySequence<byte>(payload),
                QualityOfServiceLevel = MqttQualityOfServiceLevel.AtLeastOnce,
            }));
        }

        await Task.WhenAll(window);
        var received = await receiving.WaitAsync(TimeSpan.FromMinutes(10));
        var seconds = clock.Elapsed.TotalSeconds;
        await client.DisconnectAsync(new MqttClientDisconnectOptions());
        return received != (long)messages * payload.Length
            ? throw new InvalidOperationException($"received {received} bytes, expected {(long)messages * payload.Length}")
            : received / 1e6 / seconds;
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var index = Array.IndexOf(args, name);
        return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], CultureInfo.InvariantCulture, out var value) ? value : fallback;
    }
}
